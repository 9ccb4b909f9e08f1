"""The dependency audit where PyPI answers only its project JSON (`/pypi/<name>/json`), not the
per-release JSON that pip-audit reads (`/pypi/<name>/<version>/json`).

The project JSON carries PyPI's advisories for the project's latest release. So every installed
distribution at its latest release is audited here in full, and a known vulnerability, or a
project that cannot be looked up, fails. A distribution older than its latest release cannot be
audited from that JSON: it is listed by name, version and latest release, never passed as clean.
Run by `.ci/run` when pip-audit cannot run; `make audit` is the full audit wherever PyPI's
per-release JSON answers.
"""

import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


def installed() -> list[dict]:
    listing = subprocess.check_output(
        [sys.executable, "-m", "pip", "list", "--format", "json", "--exclude-editable"]
    )
    return json.loads(listing)


def look_up(distribution: dict) -> dict:
    url = PROJECT_JSON.format(name=distribution["name"])
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            project = json.load(response)
    except OSError as error:
        return {**distribution, "error": f"{url}: {error}"}
    return {
        **distribution,
        "latest": project["info"]["version"],
        "vulnerabilities": project.get("vulnerabilities") or [],
    }


def main() -> int:
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(look_up, installed()))
    failed = [d for d in found if "error" in d]
    if failed and len(failed) == len(found):
        print(f"dependency audit SKIPPED: PyPI cannot be reached at all ({failed[0]['error']})")
        return 0
    current = [d for d in found if "error" not in d and d["version"] == d["latest"]]
    older = [d for d in found if "error" not in d and d["version"] != d["latest"]]
    vulnerable = [d for d in current if d["vulnerabilities"]]
    print(
        f"{len(found)} installed distributions; {len(current)} at their latest release, audited "
        f"against PyPI's advisories: {len(vulnerable)} with a known vulnerability."
    )
    for d in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in d["vulnerabilities"])
        print(f"  VULNERABLE {d['name']} {d['version']}: {ids}")
    for d in failed:
        print(f"  LOOK-UP FAILED {d['name']} {d['version']}: {d['error']}")
    if older:
        print(
            f"Not audited here ({len(older)}: older than the latest release, whose advisories only "
            "the per-release JSON gives; run `make audit` where it answers):"
        )
        for d in sorted(older, key=lambda d: d["name"].lower()):
            print(f"  {d['name']} {d['version']} (latest {d['latest']})")
    return 1 if vulnerable or failed else 0


if __name__ == "__main__":
    sys.exit(main())
