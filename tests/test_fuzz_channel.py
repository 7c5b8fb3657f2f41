"""Fuzzing the MCP channel (bin/amc-channel): JSON-RPC lines of every shape on its stdin.

Whatever line arrives (broken JSON, a batch, wrong types for id / method / params, huge or
deeply nested lines, escapes of lone surrogates), `Channel.handle_line` never raises; a request
(an object with an `id`) gets exactly one answer with that id, a result or a JSON-RPC error; a
notification gets none; every line it writes is one JSON-RPC 2.0 object that a strict UTF-8
stdout accepts. The real process, fed a stream of hostile lines, still answers the valid
requests after them. See tests/support/fuzzing.py.
"""
import io
import json
import os
import subprocess
import sys
import tempfile
import shutil
import unittest
from typing import Any, List

from tests.support.fuzzing import (
    deep_nesting, examples, given, hostile_text, json_line, json_values, require, st)
from tests.support.helpers import ROOT, isolated_env

from amc_server.commands import channel

CHANNEL = os.path.join(ROOT, "bin", "amc-channel")
METHODS = ["initialize", "ping", "tools/list", "tools/call", "notifications/initialized",
           "notifications/cancelled", "notifications/claude/channel/permission_request",
           "server/discover", "resources/list", ""]
ids = st.one_of(st.integers(), st.sampled_from([0, -1, 10 ** 400, 2 ** 63]), hostile_text(),
                st.none(), st.booleans(), st.floats(), json_values(4))
params = st.one_of(json_values(), st.fixed_dictionaries({
    "name": st.one_of(st.just("reply"), json_values(3)),
    "arguments": st.one_of(json_values(), st.fixed_dictionaries(
        {"text": st.one_of(hostile_text(), json_values(3)),
         "chat_id": st.one_of(hostile_text(), json_values(3))})),
    "request_id": st.one_of(hostile_text(), json_values(3))}))


@st.composite
def messages(draw: Any) -> Any:
    """A JSON-RPC-ish object: some of jsonrpc, id, method, params, result, error."""
    msg = {}
    if draw(st.booleans()):
        msg["jsonrpc"] = draw(st.one_of(st.just("2.0"), json_values(2)))
    if draw(st.booleans()):
        msg["id"] = draw(ids)
    if draw(st.integers(0, 5)):
        msg["method"] = draw(st.one_of(st.sampled_from(METHODS), json_values(3)))
    if draw(st.booleans()):
        msg["params"] = draw(params)
    if draw(st.integers(0, 6)) == 0:
        msg[draw(st.sampled_from(["result", "error"]))] = draw(json_values(3))
    return msg


lines = st.one_of(
    st.builds(json_line, st.one_of(messages(), st.lists(messages(), max_size=3), json_values()),
              st.booleans()),
    st.binary(max_size=80), deep_nesting().map(str.encode),
    st.sampled_from([b"", b"\n", b"{", b"[]", b"null", b'{"id":1}', b'{"id":"\\ud800","method":"ping"}',
                     b'{"id":1,"method":"\\udfff"}', b"\xff\xfe", b'{"id": 1e999, "method": "ping"}',
                     b'{"jsonrpc":"2.0","id":' + b"9" * 5000 + b',"method":"ping"}']))


def written(out: io.BytesIO) -> List[Any]:
    """Return the JSON-RPC messages the channel wrote (each line must be one object)."""
    # lines end at "\n" only: U+2028 may stand raw inside a JSON string
    return [json.loads(raw.decode("utf-8")) for raw in out.getvalue().split(b"\n") if raw]


class ChannelLineFuzz(unittest.TestCase):
    def setUp(self) -> None:
        require()

    def feed(self, raw: bytes) -> List[Any]:
        out = io.BytesIO()
        text = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
        ch = channel.Channel(text, None)
        ch.handle_line(raw.decode("utf-8", "replace"))  # as main() hands a line over
        text.flush()
        sent = written(out)
        text.detach()
        return sent

    @examples(400)
    @given(raw=lines)
    def test_every_line_gets_one_answer_or_none_and_never_raises(self, raw):
        sent = self.feed(raw)
        self.assertLessEqual(len(sent), 1)
        for msg in sent:
            self.assertIsInstance(msg, dict)
            self.assertEqual(msg.get("jsonrpc"), "2.0")
            self.assertEqual(len({"result", "error"} & set(msg)), 1, msg)
            if "error" in msg:
                self.assertIsInstance(msg["error"]["code"], int)
                self.assertIsInstance(msg["error"]["message"], str)
        try:
            request = json.loads(raw.decode("utf-8", "replace"))  # what the channel reads
        except (ValueError, RecursionError):
            return
        if isinstance(request, dict) and isinstance(request.get("method"), str):
            if "id" in request:
                self.assertEqual(len(sent), 1, "a request was not answered")
                if request["id"] == request["id"] and isinstance(request["id"], (int, str)) \
                        and "\\ud" not in raw.decode("utf-8", "replace").lower():
                    self.assertEqual(sent[0]["id"], request["id"])
            else:
                self.assertEqual(sent, [], "a notification was answered")


class RealChannelFuzz(unittest.TestCase):
    """bin/amc-channel itself, fed hostile lines, then the requests Claude Code sends."""

    @examples(4, slow_io=True)
    @given(junk=st.lists(lines, min_size=1, max_size=30))
    def test_real_channel_answers_the_valid_requests_after_hostile_lines(self, junk):
        home = tempfile.mkdtemp(prefix="amc-fuzz-channel-")
        self.addCleanup(shutil.rmtree, home, True)
        env = dict(isolated_env(home), AMC_DATA_DIR=os.path.join(home, "data"))
        valid = [{"jsonrpc": "2.0", "id": "after-%d" % i, "method": m}
                 for i, m in enumerate(["initialize", "ping", "tools/list"])]
        data = b"".join(raw.replace(b"\n", b" ") + b"\n" for raw in junk) + \
            b"".join(json.dumps(v).encode() + b"\n" for v in valid)
        proc = subprocess.run([sys.executable, CHANNEL], input=data, env=env,
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode("utf-8", "replace")[-2000:])
        self.assertNotIn(b"Traceback", proc.stderr)
        answers = [json.loads(raw) for raw in proc.stdout.split(b"\n") if raw]
        by_id = {a.get("id"): a for a in answers if isinstance(a.get("id"), str)}
        for v in valid:
            self.assertIn("result", by_id.get(v["id"], {}), "no answer to %s" % v["method"])
        self.assertEqual(by_id["after-2"]["result"]["tools"][0]["name"], "reply")

    def setUp(self) -> None:
        require()


if __name__ == "__main__":
    unittest.main()
