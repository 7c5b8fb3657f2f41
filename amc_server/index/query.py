"""Search queries: what a person typed -> a safe FTS5 MATCH expression -> ranked hits.

Place in the flow: `GET /api/search?q=` (http/api.py) -> indexer.SearchIndex.search -> here -> db.py's
tables. Nothing a person types is FTS5 syntax: each word becomes a quoted phrase (quotes doubled),
so `NOT`, `OR`, `NEAR`, `:`, `^`, parentheses and column names are searched for as words. Words
are ANDed. A "quoted phrase" is searched as a phrase (a missing closing quote ends at the end). A
word ending in `*` (at least two letters or digits before it) matches as a prefix; other `*` are
dropped. Words with no letter or digit (which the tokenizer would drop) are ignored. Control
characters are spaces. A query over MAX_QUERY_CHARS characters or MAX_TERMS words is a 400.

Hits are ranked by bm25 (db.RANK: text 1.0, tools and thinking 0.5). `part` says where the
snippet comes from: the first of `text` (prompt or reply), `tools` (a tool call's name, input or
output) and `thinking` that holds a hit. The snippet is text with the
matched terms between U+E000 and U+E001 (private-use characters, which documents.py removes from
indexed text), whitespace collapsed, at most SNIPPET_CHARS: the page splits it into text nodes
and <mark> elements, never HTML.
"""
import re
import sqlite3
from typing import Any, Dict, List, Mapping

from .. import agents as agent_family
from ..errors import BadRequest
from .documents import MARK_END, MARK_START

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
SNIPPET_TOKENS = 24
SNIPPET_CHARS = 400
AGENTS = agent_family.FAMILY  # the agent family (agents/__init__.py)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PART = re.compile(r'"([^"]*)"?|([^\s"]+)')  # a quoted phrase, or a word up to a quote
_TOKEN_CHAR = re.compile(r"[^\W_]")           # what unicode61 keeps: letters and digits


def match_expression(q: str, thinking: bool = False) -> str:
    """Return the FTS5 MATCH expression for `q`, or "" when nothing in it can match."""
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest("the query is too long: at most %d characters" % MAX_QUERY_CHARS)
    q = _CONTROL.sub(" ", q)
    phrases: List[str] = []
    for m in _PART.finditer(q):
        quoted, word = m.group(1), m.group(2)
        prefix = False
        if quoted is not None:
            text = quoted
        else:
            prefix = word.endswith("*") and len(_TOKEN_CHAR.findall(word)) >= 2
            text = word.replace("*", " ")
        if not _TOKEN_CHAR.search(text):
            continue  # punctuation only: the tokenizer keeps nothing of it
        phrases.append('"%s"%s' % (text.strip().replace('"', '""'), " *" if prefix else ""))
    if len(phrases) > MAX_TERMS:
        raise BadRequest("too many words in the query: at most %d" % MAX_TERMS)
    if not phrases:
        return ""
    columns = "{text tools thinking}" if thinking else "{text tools}"
    return "%s : (%s)" % (columns, " AND ".join(phrases))


def parse_params(query: Mapping[str, str]) -> Dict[str, Any]:
    """Return the search parameters of a request's query string (raises BadRequest)."""
    q = query.get("q", "")
    agent = query.get("agent", "")
    if agent and agent not in AGENTS:
        raise BadRequest("unknown agent %r (known: %s)" % (agent, ", ".join(AGENTS)))
    raw = query.get("limit", "")
    try:
        limit = int(raw) if raw != "" else DEFAULT_LIMIT
    except ValueError:
        raise BadRequest("limit must be an integer from 1 to %d, got %r" % (MAX_LIMIT, raw[:40])) \
            from None
    thinking = query.get("thinking", "")
    if thinking not in ("", "0", "1"):
        raise BadRequest("thinking must be 0 or 1")
    return {"match": match_expression(q, thinking == "1"), "project": query.get("project", ""),
            "agent": agent, "machine": query.get("machine", ""),
            "limit": max(1, min(MAX_LIMIT, limit))}


QUERY_FAULTS = ("fts5", "syntax error", "unknown special query")
PARTS = ("text", "tools", "thinking")   # the columns, in the order a snippet is taken from
_SNIPPET = "snippet(fts, %d, :start, :end, :cut, :tokens)"
SQL = ("SELECT f.session_id, f.agent, f.project, f.project_dir, m.message_id, m.timestamp, m.role, "
       + ", ".join(_SNIPPET % i for i in range(len(PARTS)))
       + " FROM fts JOIN messages m ON m.id = fts.rowid JOIN files f ON f.id = m.file_id "
       "WHERE fts MATCH :match%s ORDER BY rank LIMIT :limit")


def run(conn: sqlite3.Connection, params: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Return the ranked hits of checked `params` (parse_params) from one read connection."""
    if not params["match"] or params["machine"]:
        return []  # nothing to look for; other machines' transcripts are on those machines
    where = ""
    args = {"start": MARK_START, "end": MARK_END, "cut": "\u2026", "tokens": SNIPPET_TOKENS,
            "match": params["match"], "limit": params["limit"]}
    for key in ("project", "agent"):
        if params[key]:
            where += " AND f.%s = :%s" % (key, key)
            args[key] = params[key]
    try:
        rows = conn.execute(SQL % where, args).fetchall()
    except sqlite3.OperationalError as e:
        # match_expression makes only quoted phrases; FTS5 refusing one is still the query's
        # fault. Any other error is the index's (full, damaged, gone): the caller says so.
        if not any(w in str(e) for w in QUERY_FAULTS):
            raise
        raise BadRequest("cannot search for that: %s" % e) from None
    out = []
    for sid, agent, project, pdir, mid, ts, role, *snippets in rows:
        # the first part (what was said, then tool calls, then thinking) that holds a hit
        i = next((i for i, snip in enumerate(snippets) if snip and MARK_START in snip),
                 next((i for i, snip in enumerate(snippets) if snip), 0))
        out.append({"session_id": sid, "machine": "", "agent": agent, "project": project,
                    "project_dir": pdir, "message_id": mid, "timestamp": ts, "role": role,
                    "part": PARTS[i], "snippet": clean_snippet(snippets[i] or "")})
    return out


def clean_snippet(text: str) -> str:
    """Return a snippet on one line, at most SNIPPET_CHARS, with its markers balanced."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    cut = len(text) > SNIPPET_CHARS
    opened = False
    out = []
    for ch in text[:SNIPPET_CHARS] if cut else text:
        if ch == MARK_START:
            if opened:
                continue
            opened = True
        elif ch == MARK_END:
            if not opened:
                continue
            opened = False
        out.append(ch)
    if opened:
        out.append(MARK_END)
    return "".join(out) + ("\u2026" if cut else "")
