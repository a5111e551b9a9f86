"""Adult-site signal from a document's URL: the UT1 list's hosts and URLs, plus host words.

FineWeb drops pages whose host is on the UT1 (Université Toulouse 1 Capitole) `adult` list;
we label instead of dropping. `match(uri)` names the rule that fired, or None:

- `ut1_adult`: the host or one of its parent domains is in a UT1 `domains` file, or the
  URL starts with an entry of a UT1 `urls` file (host and path prefix).
- `adult_host_word`: a word of the host (split at dots, dashes and digits) is one of
  `HOST_WORDS`, words that name adult sites in any language (`porn`, `xxx`...).

The package ships `lexicons/ut1_adult_urls.txt` (UT1's `adult/urls`, CC BY-SA 4.0). The full
`adult/domains` list (4.6 M entries, too large to ship) is used when `--url-blocklist DIR`
points at an unpacked UT1 category folder (`DIR/domains`, `DIR/urls`).
"""

from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import urlsplit

from corpusmill.errors import ConfigError

SHIPPED = os.path.join(os.path.dirname(__file__), "lexicons", "ut1_adult_urls.txt")
HOST_WORDS = frozenset(
    {
        "porn",
        "porno",
        "pornhub",
        "xxx",
        "xvideos",
        "xhamster",
        "xnxx",
        "hentai",
        "youporn",
        "redtube",
        "nsfw",
        "camgirl",
        "camgirls",
        "sexcam",
        "sexcams",
        "milf",
    }
)
_HOST_SPLIT = re.compile(r"[.\-_\d]+")


def _entries(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return [ln.strip().lower() for ln in fh if ln.strip() and not ln.startswith("#")]


class UrlBlocklist:
    def __init__(self, domains: list[str], urls: list[str], files: list[str]) -> None:
        self._domain_files, self._url_files = domains, urls
        h = hashlib.blake2b(digest_size=4)
        for path in files:
            h.update(os.path.basename(path).encode())
            h.update(str(os.path.getsize(path)).encode())
        self.version = h.hexdigest()
        self.domains: frozenset[str] | None = None
        self.urls: frozenset[str] | None = None

    @classmethod
    def from_path(cls, folder: str | None) -> UrlBlocklist:
        """The shipped list, or a UT1 category folder (`domains` and/or `urls` files)."""
        if not folder:
            return cls([], [SHIPPED], [SHIPPED])
        domains, urls = os.path.join(folder, "domains"), os.path.join(folder, "urls")
        found = [p for p in (domains, urls) if os.path.isfile(p)]
        if not found:
            raise ConfigError(
                f"--url-blocklist {folder}: expected a UT1 category folder with a "
                "`domains` or `urls` file (e.g. blacklists/adult of the UT1 lists)"
            )
        return cls([domains] if os.path.isfile(domains) else [], [urls] if os.path.isfile(urls) else [], found)

    def load(self) -> None:
        if self.domains is None:
            self.domains = frozenset(d for p in self._domain_files for d in _entries(p))
            self.urls = frozenset(u for p in self._url_files for u in _entries(p))

    def match(self, uri: str | None) -> str | None:
        if not uri or not uri.startswith(("http://", "https://")):
            return None
        self.load()
        try:
            parts = urlsplit(uri)
            host = (parts.hostname or "").lower()
        except ValueError:  # a malformed URL carries no signal
            return None
        if host.startswith("www."):
            host = host[4:]
        domains, urls = self.domains or frozenset(), self.urls or frozenset()
        labels = host.split(".")
        if any(".".join(labels[i:]) in domains for i in range(len(labels) - 1)):
            return "ut1_adult"
        path = parts.path.lower().rstrip("/")
        # UT1 `urls` entries are host + path prefixes, cut at a `/`.
        segments = path.split("/")
        if any(host + "/".join(segments[:j]) in urls for j in range(2, len(segments) + 1)):
            return "ut1_adult"
        if any(w in HOST_WORDS for w in _HOST_SPLIT.split(host)):
            return "adult_host_word"
        return None
