"""The pure core: the model, dates, names, questions and changes. No I/O, no terminal, no Typer or Rich."""
