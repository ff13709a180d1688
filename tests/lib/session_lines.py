#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# session_lines.py: what session correlation left where, as one line of words each, for
# tests/e2e/session.t to compare ("-" for absent, several values joined by ","):
#
#   session_lines.py echo FILE...   for each of upstream.py's /echo JSON answers: "SESSION SEQ"
#                                   (the values of every X-Coder-Agent-Firewall-Session-Id and
#                                   -Sequence-Number field the upstream got, names in any case)
#   session_lines.py audit FILE     for each record of an --audit-log with a "sequence":
#                                   "EVENT SEQ DECISION URL SESSION_ID"
#   session_lines.py agent FILE     for each record coder_agent.py decoded: "SEQ allow|deny
#                                   METHOD URL SESSION_ID", in the order they arrived
import json, sys

def echo(path):
    try:
        h = json.load(open(path))["headers"]
    except (OSError, ValueError, KeyError):
        return "no-answer no-answer"
    def values(name):
        v = [x[1] for x in h if x[0].lower() == name]
        return ",".join(v) if v else "-"
    return "%s %s" % (values("x-coder-agent-firewall-session-id"),
                      values("x-coder-agent-firewall-sequence-number"))

mode, files = sys.argv[1], sys.argv[2:]
if mode == "echo":
    for f in files:
        print(echo(f))
elif mode == "audit":
    for l in open(files[0]):
        r = json.loads(l)
        if "sequence" in r:
            print(r["event"], r["sequence"], r.get("decision", "-"), r.get("url", "-"),
                  r.get("session_id", "-"))
elif mode == "agent":
    for l in open(files[0]):
        e = json.loads(l)
        m = e.get("msg", {}).get("logs")
        for r in (m or {}).get("logs", []):
            q = r.get("http_request", {})
            print(r.get("sequence_number", 0), "allow" if r.get("allowed") else "deny",
                  q.get("method", "-"), q.get("url", "-"), m.get("session_id", "-"))
else:
    sys.exit("usage: session_lines.py echo FILE... | audit FILE | agent FILE")
