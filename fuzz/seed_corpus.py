#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ for the push-parser fuzz targets from the captures in
../shared/protocol/push_captures (or the folder given as the first argument).

Two sources per target: the body of every captured request that goes to that parser (a `> POST`
block up to its `< ` reply), and every capture line that looks like one of its records (an
ATTLOG line, an OPERLOG tag line, an `ID=` ack, an rtlog `time=` line ...). Each seed is one file
named by the SHA-1 of its bytes, so re-running the script is idempotent. The first byte of a
seed is the target's selector byte (see fuzz_targets/push_*.rs): 0 here, i.e. UTF-8 and the
first variant of the target.

    python3 fuzz/seed_corpus.py [captures-dir]
"""
import hashlib
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "protocol" / "push_captures"

OPERLOG_TAGS = re.compile(r"^(OPLOG|USER|FP|FACE|FVEIN|USERPIC|BIOPHOTO|BIODATA|ERRORLOG|IDCARD|USERINFO) ")
LINE_RULES = {
    "push_attlog": re.compile(r"^[^\t =]+\t\S+-\S+-\S+ "),
    "push_operlog": OPERLOG_TAGS,
    "push_devicecmd": re.compile(r"^(ID=|Return=|CMD=|Content=)", re.I),
    "push_rtlog": re.compile(r"(^|\t)time=", re.I),
    "push_tabledata": re.compile(r"^(user|biodata|biophoto|userpic|transaction|userauthorize|timezone) \S+=", re.I),
    "push_querydata": re.compile(r"^(user|biodata|biophoto|userpic|transaction) \S+=", re.I),
    "push_registry": re.compile(r"^[~A-Za-z]+=[^,]*,.*=.*,"),
    "push_handshake": re.compile(r"^(GET OPTION FROM|registry=ok|[A-Za-z]+Stamp=|TransFlag=|ServerVer)"),
}


def target_of(request: str) -> str | None:
    """The fuzz target that parses the body of a captured request line (`> POST /iclock/...`)."""
    path = request.split()[2] if len(request.split()) > 2 else ""
    query = path.lower()
    if "/registry" in query:
        return "push_registry"
    if "/querydata" in query:
        return "push_querydata"
    if "/devicecmd" in query:
        return "push_devicecmd"
    if "/fdata" in query or "table=attphoto" in query:
        return "push_photo"
    if "table=attlog" in query:
        return "push_attlog"
    if any(f"table={t}" in query for t in ("operlog", "biodata", "userinfo", "errorlog", "idcard")):
        return "push_operlog"
    if "table=rtlog" in query or "table=rtstate" in query:
        return "push_rtlog"
    if "table=tabledata" in query:
        return "push_tabledata"
    if "table=options" in query or "options=all" in query or "/push" in query:
        return "push_handshake"
    return None


def request_bodies(text: str):
    """(target, body, query) for every captured request with a body."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("> POST ") or line.startswith("> GET "):
            target, query = target_of(line), line.split()[2] if len(line.split()) > 2 else ""
            i += 1
            while i < len(lines) and lines[i].startswith(">"):
                i += 1
            body = []
            while i < len(lines) and not lines[i].startswith(("<", "> ", "#", "---")):
                body.append(lines[i])
                i += 1
            while body and body[-1] == "":
                body.pop()
            if target and body:
                yield target, "\n".join(body), query
        else:
            i += 1


def main() -> None:
    captures = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    seeds: dict[str, set[bytes]] = {t: set() for t in LINE_RULES}
    seeds["push_photo"] = set()
    for file in sorted(captures.glob("*.txt")):
        text = file.read_text(encoding="utf-8", errors="replace")
        for target, body, query in request_bodies(text):
            seeds[target].add(body.encode())
            if target in ("push_handshake", "push_querydata"):
                seeds[target].add(query.encode())
        for line in text.split("\n"):
            for target, rule in LINE_RULES.items():
                if rule.search(line):
                    seeds[target].add(line.encode())
    # ATTPHOTO: the captures elide the JPEG; the header and a few bytes stand for it.
    seeds["push_photo"].add(b"PIN=20150731103012-123.jpg\nSN=0316144680030\nsize=4\nCMD=uploadphoto\0\xff\xd8\xff\xe0")
    seeds["push_photo"].add(b"PIN=20150731103012.jpg\nSN=X\nsize=2\nCMD=realupload\0\xff\xd9")
    for target, bodies in seeds.items():
        folder = HERE / "corpus" / target
        folder.mkdir(parents=True, exist_ok=True)
        for body in bodies:
            seed = b"\0" + body
            (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        print(f"{target}: {len(bodies)} seeds")


if __name__ == "__main__":
    main()
