"""The core of partnerctl: the model and the rules on it, without I/O."""
