"""Subagents and images through the real server: every layout Claude Code has used, running and
done, the card's count from the real hooks (and from the files without them), and images served
on demand, never inside the conversation JSON.

Transcripts are real: tests/fixtures/claude-code-2.1.329/subagents (recorded from the real CLI
2.1.329 running two background Agent calls, once while one still ran and once after both ended,
with its hook payloads) and tool-views (a Read of a PNG), and the public fixtures of 1.0.108
(inline sidechains), 2.0.55 (`agent-<id>.jsonl` beside the session) and 2.1.17 / 2.1.114 /
2.1.207 (`<session>/subagents/`); a few hostile files are written here.
"""
import base64
import json
import os
import shutil
import time

from tests.support.helpers import FIXTURES, ServerTestCase
from tests.support.sse import SSEClient

RECORDED = os.path.join(FIXTURES, "claude-code-2.1.329")
PUBLIC = os.path.join(FIXTURES, "public", "claude")
SID = "6d8f2817-2940-4de6-8d18-af853a173f29"     # the recorded 2.1.329 session
SLOW, ECHO = "af97e6de73497bedd", "ae4323c0a7088b4ea"   # its two subagents
SLOW_CALL, ECHO_CALL = "toolu_agent0001", "toolu_agent0002"
PNG_1x1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                           "hgGAWjR9awAAAABJRU5ErkJggg==")


def hook_payloads(scenario):
    with open(os.path.join(RECORDED, scenario, "hooks.jsonl")) as f:
        return [json.loads(line)["payload"] for line in f if line.strip()]


class Case(ServerTestCase):
    def project(self, name="-home-dev-work-demo-proj"):
        path = os.path.join(self.paths.claude_projects, name)
        os.makedirs(path, exist_ok=True)
        return path

    def install(self, sid, transcript, subagents_dir=None, beside=()):
        """Put a transcript where Claude keeps it (with its subagents); return its path."""
        project = self.project()
        path = os.path.join(project, sid + ".jsonl")
        shutil.copy(transcript, path)
        if subagents_dir:
            target = os.path.join(project, sid, "subagents")
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(subagents_dir, target, copy_function=shutil.copy)
        for src in beside:
            shutil.copy(src, os.path.join(project, _beside_name(src)))
        return path

    def install_recorded(self, state=""):
        base = os.path.join(RECORDED, "subagents", state)
        return self.install(SID, os.path.join(base, "transcript.jsonl"),
                            os.path.join(base, "subagents"))

    def conversation(self, sid, query=""):
        return self.get_json("/api/conversation/%s%s" % (sid, query))

    def calls(self, sid, name=None):
        return [c for m in self.conversation(sid)["messages"] for c in m["tool_calls"]
                if name is None or c["name"] == name]

    def subagent_messages(self, sid, sub):
        self.assertTrue(sub.get("messages_url"), sub)
        answer = self.get_json(sub["messages_url"])
        self.assertEqual(answer["subagent"], sub["agent_id"])
        return answer["messages"]

    def error(self, path, status):
        code, body, headers = self.request("GET", path)
        self.assertEqual(code, status, body)
        self.assertTrue(headers["Content-Type"].startswith("application/json"), headers)
        self.assertEqual(body["ok"], False)
        self.assertIsInstance(body["error"], str)
        self.assertTrue(body["error"])
        return body["error"]

    def hook(self, payload, path):
        proc = self.run_hook(dict(payload, transcript_path=path),
                             {"TMUX": "/tmp/t,1,0", "TMUX_PANE": "%1"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"")

    def state_of(self, sid):
        return next(s for s in self.get_json("/api/state")["sessions"] if s["session_id"] == sid)


def _beside_name(src):
    """The name a 2.0.x subagent file has in its project dir: agent-<id>.jsonl."""
    with open(src, encoding="utf-8") as f:
        return "agent-%s.jsonl" % json.loads(f.readline())["agentId"]


class Layouts(Case):
    """A Task/Agent call says which subagent it started, and that subagent's own messages."""

    def test_2_1_329_background_agents_link_by_agent_id_and_read_in_place(self):
        self.install_recorded()
        calls = {c["id"]: c for c in self.calls(SID, "Agent")}
        self.assertEqual(set(calls), {SLOW_CALL, ECHO_CALL})
        for call_id, agent_id, prompt, reply in (
                (SLOW_CALL, SLOW, "GATED: look around", "Looked around: nothing odd."),
                (ECHO_CALL, ECHO, "BASH: echo from-subagent", "TOOL-DONE")):
            sub = calls[call_id]["subagent"]
            self.assertEqual((sub["agent_id"], sub["status"], sub["layout"], sub["agent_type"]),
                             (agent_id, "done", "subagents", "general-purpose"))
            self.assertEqual(sub["messages_url"],
                             "/api/conversation/%s?subagent=%s" % (SID, agent_id))
            messages = self.subagent_messages(SID, sub)
            self.assertEqual((messages[0]["role"], messages[0]["content"]), ("user", prompt))
            self.assertEqual(messages[-1]["content"], reply)
            self.assertTrue(all(m["id"].startswith("claude-6d8f2817-%s-" % agent_id)
                                for m in messages), [m["id"] for m in messages])
        echo = self.subagent_messages(SID, calls[ECHO_CALL]["subagent"])
        [bash] = [c for m in echo for c in m["tool_calls"]]
        self.assertEqual((bash["name"], bash["input"]["command"], bash["result"]),
                         ("Bash", "echo from-subagent", "from-subagent"))
        # the parent's own conversation holds none of the subagents' messages
        parent = [m["content"] for m in self.conversation(SID)["messages"]]
        self.assertNotIn("GATED: look around", parent)
        self.assertNotIn("Looked around: nothing odd.", parent)

    def test_2_1_329_one_still_running_then_done_when_its_notification_arrives(self):
        path = self.install_recorded("running")
        calls = {c["id"]: c["subagent"] for c in self.calls(SID, "Agent")}
        self.assertEqual(calls[SLOW_CALL]["status"], "running")
        self.assertEqual(calls[ECHO_CALL]["status"], "done")
        running = self.subagent_messages(SID, calls[SLOW_CALL])
        self.assertEqual([(m["role"], m["content"]) for m in running],
                         [("user", "GATED: look around")])  # its reply is still being held
        # What the CLI wrote next, as it wrote it: the rest of the parent and the finished files.
        with open(os.path.join(RECORDED, "subagents", "transcript.jsonl"), "rb") as f:
            done = f.read()
        with open(path, "rb") as f:
            before = f.read()
        self.assertTrue(done.startswith(before[:len(before) // 2]))
        with open(path, "ab") as f:
            f.write(done[len(before):])
        shutil.copytree(os.path.join(RECORDED, "subagents", "subagents"),
                        os.path.join(os.path.dirname(path), SID, "subagents"),
                        dirs_exist_ok=True, copy_function=shutil.copy)
        calls = {c["id"]: c["subagent"] for c in self.calls(SID, "Agent")}
        self.assertEqual(calls[SLOW_CALL]["status"], "done")
        self.assertEqual(self.subagent_messages(SID, calls[SLOW_CALL])[-1]["content"],
                         "Looked around: nothing odd.")

    def test_1_0_108_inline_sidechains_are_linked_by_prompt(self):
        sid = "5c0375b4-57a5-4f26-b12d-d022ee4e51b7"
        self.install(sid, os.path.join(PUBLIC, "cc-1.0.108-inline-sidechain-task-5c0375b4.jsonl"))
        calls = self.calls(sid, "Task")
        self.assertEqual(len(calls), 3)
        failed, package, structure = calls
        # the first call failed validation (no prompt): no subagent ever ran
        self.assertTrue(failed["is_error"])
        self.assertEqual(failed["subagent"]["agent_id"], "")
        self.assertNotIn("messages_url", failed["subagent"])
        for call, first_tool in ((package, "Glob"), (structure, "Bash")):
            sub = call["subagent"]
            self.assertEqual((sub["layout"], sub["status"]), ("inline", "done"))
            messages = self.subagent_messages(sid, sub)
            self.assertEqual(messages[0]["content"], call["input"]["prompt"].strip())
            self.assertEqual(messages[1]["tool_calls"][0]["name"] if messages[1]["tool_calls"]
                             else messages[2]["tool_calls"][0]["name"], first_tool)
            # the subagent's last answer is what the parent got as the call's result
            self.assertIn(messages[-1]["content"][:60], call["result"])
        self.assertNotEqual(package["subagent"]["agent_id"], structure["subagent"]["agent_id"])

    def test_2_0_55_agent_file_beside_the_session_is_linked_by_the_results_agent_id(self):
        sid = "a7da6a22-facc-4fcd-8bab-f83c87862004"
        agent = os.path.join(PUBLIC, "cc-2.0.55-project-level-agent-c8d9b115.jsonl")
        self.install(sid, os.path.join(PUBLIC, "cc-2.0.55-askuserquestion-planmode-long-"
                                       "a7da6a22.jsonl"), beside=[agent])
        # another session's subagent in the same project dir is never taken for this one's
        with open(agent, encoding="utf-8") as f:
            other = json.loads(f.readline())
        other.update(sessionId="00000000-0000-4000-8000-00000000beef", agentId="deadbeef")
        with open(os.path.join(self.project(), "agent-deadbeef.jsonl"), "w") as f:
            f.write(json.dumps(other) + "\n")
        [call] = self.calls(sid, "Task")
        sub = call["subagent"]
        self.assertEqual((sub["agent_id"], sub["layout"], sub["status"]),
                         ("c8d9b115", "beside", "done"))
        messages = self.subagent_messages(sid, sub)
        self.assertTrue(messages[0]["content"].startswith("I'll explore the deep-manifest"))
        self.assertGreater(sum(len(m["tool_calls"]) for m in messages), 5)
        self.error("/api/conversation/%s?subagent=deadbeef" % sid, 404)

    def test_2_1_x_subagents_dir_links_sync_results_and_says_when_a_file_is_missing(self):
        sid = "29ccd257-68b1-427f-ae5f-6524b7cb6f20"
        self.install(sid, os.path.join(PUBLIC, "cc-2.1.17-task-subagent-29ccd257.jsonl"),
                     os.path.join(PUBLIC, "cc-2.1.17-task-subagent-29ccd257", "subagents"))
        [call] = self.calls(sid, "Task")
        self.assertEqual((call["subagent"]["agent_id"], call["subagent"]["status"],
                          call["subagent"]["agent_type"]), ("a2271d1", "done", "Explore"))
        self.assertEqual(len(self.subagent_messages(sid, call["subagent"])), 11)
        # 2.1.114: six Agent calls, two files kept; the others say done, with nothing to open
        sid = "ef958aa1-0e93-49f0-bb71-150f63befcd1"
        self.install(sid, os.path.join(PUBLIC, "cc-2.1.114-teammates-worktrees-ef958aa1.jsonl"),
                     os.path.join(PUBLIC, "cc-2.1.114-teammates-worktrees-ef958aa1", "subagents"))
        subs = [c["subagent"] for c in self.calls(sid, "Agent")]
        self.assertEqual([s["status"] for s in subs], ["done"] * 6)
        self.assertEqual(sorted(s["agent_id"] for s in subs if "messages_url" in s),
                         ["a36efb2a1231c41e2", "aef063ba534d73153"])
        for s in subs:
            if "messages_url" not in s:
                self.error("/api/conversation/%s?subagent=%s" % (sid, s["agent_id"]), 404)

    def test_2_1_207_call_without_id_or_prompt_takes_the_one_unclaimed_file(self):
        sid = "0a1b2c3d-4e5f-4061-8071-2a3b4c5d6e7f"
        self.install(sid, os.path.join(PUBLIC, "cc-2.1.207-subagent-meta-0a1b2c3d.jsonl"),
                     os.path.join(PUBLIC, "cc-2.1.207-subagent-meta-0a1b2c3d", "subagents"))
        [call] = self.calls(sid, "Task")
        self.assertEqual(call["subagent"]["agent_id"], "a0ad4f44468bdf20d")
        self.assertEqual(call["subagent"]["status"], "running")  # no result, no "finished"
        messages = self.subagent_messages(sid, call["subagent"])
        self.assertEqual(messages[0]["content"], "Search the repo for TODO comments")

    def test_subagent_messages_page_like_the_conversation(self):
        sid = "29ccd257-68b1-427f-ae5f-6524b7cb6f20"
        self.install(sid, os.path.join(PUBLIC, "cc-2.1.17-task-subagent-29ccd257.jsonl"),
                     os.path.join(PUBLIC, "cc-2.1.17-task-subagent-29ccd257", "subagents"))
        whole = self.conversation(sid, "?subagent=a2271d1")
        last = self.conversation(sid, "?subagent=a2271d1&limit=3")
        self.assertEqual((last["total"], last["messages"]), (11, whole["messages"][-3:]))
        after = self.conversation(sid, "?subagent=a2271d1&after=" + whole["messages"][5]["id"])
        self.assertEqual(after["messages"][-1], whole["messages"][-1])
        message, call = [(m, c) for m in whole["messages"] for c in m["tool_calls"]][0]
        message_id, call_id = message["id"], call["id"]
        part = self.get_json("/api/conversation/%s/part?subagent=a2271d1&message=%s&call=%s"
                             "&field=input" % (sid, message_id, call_id))
        self.assertEqual(part["value"], call["input"])
        self.error("/api/conversation/%s/part?message=%s&call=%s&field=input"
                   % (sid, message_id, call_id), 404)  # not a message of the parent


class BadInput(Case):
    def test_bad_subagent_ids_and_agents_answer_in_words(self):
        self.install_recorded()
        for bad in ("../x", "a%2Fb", "%00", "-x", "x" * 200):
            self.assertIn("subagent", self.error("/api/conversation/%s?subagent=%s"
                                                 % (SID, bad), 400))
        self.assertIn("no subagent", self.error("/api/conversation/%s?subagent=a0000" % SID, 404))
        codex = os.path.join(self.paths.codex_sessions, "2026", "11", "20")
        os.makedirs(codex)
        rollout = "rollout-2026-11-20T23-38-44-01a1fb53-9ffa-73e3-8bb2-dd747b4e3c31.jsonl"
        shutil.copy(os.path.join(FIXTURES, "codex-0.169.0",
                                 "codex-0.169.0-exec-apply-patch-gpt55.jsonl"),
                    os.path.join(codex, rollout))
        self.assertIn("Claude", self.error("/api/conversation/01a1fb53-9ffa-73e3-8bb2-"
                                           "dd747b4e3c31?subagent=abc", 400))

    def test_broken_subagent_files_and_metas_are_skipped_not_fatal(self):
        path = self.install_recorded()
        folder = os.path.join(os.path.dirname(path), SID, "subagents")
        with open(os.path.join(folder, "agent-%s.meta.json" % SLOW), "w") as f:
            f.write("{not json")
        with open(os.path.join(folder, "agent-%s.meta.json" % ECHO), "w") as f:
            f.write(json.dumps(["a list"]))
        with open(os.path.join(folder, "agent-%s.jsonl" % ECHO), "ab") as f:
            f.write(b"\xff\xfe torn line {\"type\": \"assist")
        with open(os.path.join(folder, "agent-zzz.jsonl"), "wb") as f:
            f.write(b"[1, 2]\nnull\n\"text\"\n{\"type\": 5, \"message\": []}\n")
        os.makedirs(os.path.join(folder, "agent-dir.jsonl"))
        subs = {c["id"]: c["subagent"] for c in self.calls(SID, "Agent")}
        self.assertEqual(subs[SLOW_CALL]["agent_id"], SLOW)
        self.assertEqual(self.subagent_messages(SID, subs[ECHO_CALL])[-1]["content"], "TOOL-DONE")
        self.assertEqual(self.conversation(SID, "?subagent=zzz")["messages"], [])
        self.assertEqual(self.get_json("/api/state")["sessions"], [])  # and nothing broke


class Running(Case):
    """The card's count: the real hooks' SubagentStart/SubagentStop, else the files."""

    def test_recorded_hooks_count_subagents_up_and_down(self):
        path = self.install_recorded()
        seen = []
        for payload in hook_payloads("subagents"):
            self.hook(payload, path)
            s = self.state_of(SID)
            seen.append((payload["hook_event_name"], s["subagents_running"]))
            self.assertEqual(s["subagents_running"], len(s.get("running_subagents", [])))
        counts = [n for _, n in seen]
        self.assertEqual(seen[5:7], [("SubagentStart", 1), ("SubagentStart", 2)])
        self.assertEqual(seen[11], ("SubagentStop", 1))
        self.assertEqual(seen[14], ("SubagentStop", 0))
        self.assertEqual(max(counts), 2)
        self.assertEqual(counts[-1], 0)
        # the turn ended while both ran in the background: done, with 2 subagents running
        self.assertEqual(seen[9], ("Stop", 2))
        with open(self.paths.session_file(SID)) as f:
            self.assertEqual(json.load(f)["running_subagents"], [])

    def test_a_stop_listing_background_tasks_repairs_a_lost_subagent_stop(self):
        path = self.install_recorded()
        payloads = hook_payloads("subagents")
        for payload in payloads[:7]:
            self.hook(payload, path)
        self.assertEqual(self.state_of(SID)["subagents_running"], 2)
        stop = [p for p in payloads if p["hook_event_name"] == "Stop"][1]  # lists one running
        self.hook(stop, path)
        s = self.state_of(SID)
        self.assertEqual(s["subagents_running"], 1)
        self.assertEqual([r["agent_id"] for r in s["running_subagents"]], [SLOW])
        self.assertEqual(s["running_subagents"][0]["agent_type"], "general-purpose")
        self.hook(dict(payloads[0], source="resume"), path)  # the CLI restarted
        self.assertEqual(self.state_of(SID)["subagents_running"], 0)

    def test_without_subagent_hooks_the_files_say_how_many_run(self):
        path = self.install_recorded("running")
        for payload in hook_payloads("subagents")[:5]:  # up to the Agent calls, no SubagentStart
            self.hook(payload, path)
        s = self.state_of(SID)
        self.assertNotIn("running_subagents", s)
        self.assertEqual(s["subagents_running"], 1)  # the meta of one says it finished
        old = time.time() - 3600  # that one wrote nothing for an hour: the CLI died with it
        for name in os.listdir(os.path.join(os.path.dirname(path), SID, "subagents")):
            os.utime(os.path.join(os.path.dirname(path), SID, "subagents", name), (old, old))
        self.hook(hook_payloads("subagents")[4], path)
        self.assertEqual(self.state_of(SID)["subagents_running"], 0)
        folder = os.path.join(os.path.dirname(path), SID, "subagents")
        shutil.copytree(os.path.join(RECORDED, "subagents", "subagents"), folder,
                        dirs_exist_ok=True, copy_function=shutil.copy)
        self.hook(hook_payloads("subagents")[4], path)  # any event re-reads the session
        self.assertEqual(self.state_of(SID)["subagents_running"], 0)

    def test_without_hooks_a_2_0_file_counts_while_written_lately_and_unfinished(self):
        sid = "a7da6a22-facc-4fcd-8bab-f83c87862004"
        agent = os.path.join(PUBLIC, "cc-2.0.55-project-level-agent-c8d9b115.jsonl")
        path = self.install(sid, os.path.join(PUBLIC, "cc-2.0.55-askuserquestion-planmode-long-"
                                              "a7da6a22.jsonl"), beside=[agent])
        start = {"session_id": sid, "hook_event_name": "UserPromptSubmit", "prompt": "go",
                 "cwd": "/home/dev/work/demo-proj"}
        self.hook(start, path)
        self.assertEqual(self.state_of(sid)["subagents_running"], 0)  # ends with its answer
        beside = os.path.join(self.project(), "agent-c8d9b115.jsonl")
        with open(beside, "a") as f:  # a tool call it still waits on
            f.write(json.dumps({"type": "assistant", "isSidechain": True, "sessionId": sid,
                                "agentId": "c8d9b115", "message": {
                                    "id": "m1", "role": "assistant", "content": [
                                        {"type": "tool_use", "id": "t1", "name": "Read",
                                         "input": {"file_path": "x"}}]}}) + "\n")
        self.hook(start, path)
        self.assertEqual(self.state_of(sid)["subagents_running"], 1)
        old = time.time() - 3600
        os.utime(beside, (old, old))  # nothing written for an hour: not running
        self.hook(start, path)
        self.assertEqual(self.state_of(sid)["subagents_running"], 0)


class Following(Case):
    def test_a_follower_hears_a_background_agent_finish_long_after_its_launch(self):
        path = self.install_recorded("running")
        for payload in hook_payloads("subagents")[:2]:
            self.hook(payload, path)
        client = SSEClient(self.port, "/api/stream?follow=" + SID)
        self.addCleanup(client.sock.close)
        client.until(lambda e: e["event"] == "messages")  # the last messages, once
        # 30 more prompts and replies: the launch leaves the last 24 messages followed closely
        with open(path, "a") as f:
            for n in range(30):
                f.write(json.dumps({"type": "user", "uuid": "u-more-%d" % n, "isSidechain": False,
                                    "timestamp": "2026-12-01T23:07:%02d.000Z" % n,
                                    "message": {"role": "user", "content": "more %d" % n}}) + "\n")
        client.until(lambda e: e["event"] == "messages" and any(
            m["content"] == "more 29" for m in e["data"]["messages"]))
        with open(os.path.join(RECORDED, "subagents", "transcript.jsonl")) as f:
            notes = [line for line in f if "<task-notification>" in line and SLOW in line
                     and '"type":"user"' in line.replace(" ", "")]
        self.assertTrue(notes)
        with open(path, "a") as f:
            f.write(notes[-1])
        event = client.until(lambda e: e["event"] == "messages" and any(
            c.get("subagent", {}).get("agent_id") == SLOW for m in e["data"]["messages"]
            for c in m["tool_calls"]))
        [sub] = [c["subagent"] for m in event["data"]["messages"] for c in m["tool_calls"]
                 if c.get("subagent", {}).get("agent_id") == SLOW]
        self.assertEqual(sub["status"], "done")
        self.assertEqual(sub["messages_url"], "/api/conversation/%s?subagent=%s" % (SID, SLOW))


class HostileHooks(Case):
    def test_odd_subagent_payloads_are_bounded_and_never_fail_the_hook(self):
        path = self.install_recorded()
        start = hook_payloads("subagents")[5]
        for odd in ({"agent_id": 5}, {"agent_id": ["a"]}, {"agent_id": ""},
                    {"agent_id": "x" * 5000, "agent_type": {"nested": 1}}):
            self.hook(dict(start, **odd), path)
        for n in range(100):
            self.hook(dict(start, agent_id="agent-%03d" % n), path)
        s = self.state_of(SID)
        self.assertEqual(s["subagents_running"], 64)  # bounded
        self.assertEqual(s["running_subagents"][-1]["agent_id"], "agent-099")
        stop = [p for p in hook_payloads("subagents") if p["hook_event_name"] == "Stop"][0]
        for odd in ("none", 5, [1, None, {"id": 5}, {"type": "subagent", "status": "running"}],
                    [{"id": "b%d" % n, "type": "subagent", "status": "running"}
                     for n in range(500)]):
            self.hook(dict(stop, background_tasks=odd), path)
        self.assertEqual(self.state_of(SID)["subagents_running"], 64)
        self.hook(dict(stop, background_tasks=[{"id": "shell1", "type": "shell",
                                                "status": "running"}]), path)
        self.assertEqual(self.state_of(SID)["subagents_running"], 0)
        self.hook(dict(hook_payloads("subagents")[11], agent_id=None), path)  # an old CLI's Stop
        self.assertEqual(self.state_of(SID)["subagents_running"], 0)


class Images(Case):
    """Images come from their own endpoint, checked; the conversation only names them."""

    def image_path(self, sid, message_id, index=0, call="", extra=""):
        return "/api/conversation/%s/image?message=%s&index=%d%s%s" % (
            sid, message_id, index, "&call=" + call if call else "", extra)

    def test_a_read_png_in_a_tool_result_is_served_with_its_type_and_strict_headers(self):
        sid = "54443e12-7251-487d-b2fe-5c47241fb29c"
        self.install(sid, os.path.join(RECORDED, "tool-views", "transcript.jsonl"))
        messages = self.conversation(sid)["messages"]
        [(message, call)] = [(m, c) for m in messages for c in m["tool_calls"] if c.get("images")]
        self.assertEqual(call["images"], [{"media_type": "image/png", "bytes": 2981}])
        status, body, headers = self.request("GET", self.image_path(sid, message["id"], 0,
                                                                     call["id"]))
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "image/png")
        self.assertEqual(len(body), 2981)
        self.assertTrue(body.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["Content-Security-Policy"], "default-src 'none'; sandbox")
        self.assertEqual(headers["Content-Length"], "2981")
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        self.error(self.image_path(sid, message["id"], 1, call["id"]), 404)
        self.error(self.image_path(sid, message["id"], 0), 404)  # the message has none itself
        self.error(self.image_path(sid, message["id"], 0, "toolu_nope"), 404)
        self.error(self.image_path(sid, "claude-54443e12-999", 0), 404)
        self.error("/api/conversation/%s/image?index=0" % sid, 400)
        self.error(self.image_path(sid, message["id"], 0, call["id"]).replace("index=0",
                                                                             "index=x"), 400)

    def test_prompt_images_never_ship_in_the_conversation_json(self):
        sid = "0d3a8e6f-0000-4000-8000-000000000000"
        self.install(sid, os.path.join(PUBLIC, "cc-1.0.43-image-thinking-long-0d3a8e6f.jsonl"))
        status, raw, _ = self.request("GET", "/api/conversation/%s" % sid)
        self.assertEqual(status, 200)
        text = json.dumps(raw)
        [message] = [m for m in raw["messages"] if m.get("images")]
        self.assertEqual(message["images"], [{"media_type": "image/png", "bytes": 784786}])
        self.assertLess(len(text), 400000)  # the image alone is 784 KB
        self.assertNotIn("iVBORw0KGgo", text)
        status, body, headers = self.request("GET", self.image_path(sid, message["id"]))
        self.assertEqual((status, headers["Content-Type"], len(body)), (200, "image/png", 784786))

    def test_hostile_images_are_refused_in_words(self):
        sid = "11111111-2222-4333-8444-555555555555"
        png = base64.b64encode(PNG_1x1).decode()
        blocks = [
            ("image/png", png),                                            # fine
            ("image/svg+xml", base64.b64encode(b"<svg onload=alert(1)>").decode()),
            ("image/png", base64.b64encode(b"<html><script>x</script>").decode()),  # lies
            ("image/jpeg", png),                                           # another type's bytes
            ("image/png", "!!!not base64!!!"),
            ("text/html", png),
        ]
        record = {"type": "user", "uuid": "u1", "timestamp": "2026-11-20T00:00:00.000Z",
                  "message": {"role": "user", "content": [{"type": "text", "text": "look"}] + [
                      {"type": "image", "source": {"type": "base64", "media_type": t, "data": d}}
                      for t, d in blocks]}}
        url = {"type": "user", "uuid": "u2", "timestamp": "2026-11-20T00:00:01.000Z",
               "message": {"role": "user", "content": [{"type": "text", "text": "by url"}, {
                   "type": "image", "source": {"type": "url", "url": "http://evil/x.png"}}]}}
        path = os.path.join(self.project(), sid + ".jsonl")
        with open(path, "w") as f:
            f.write(json.dumps(record) + "\n" + json.dumps(url) + "\n")
        first, second = self.conversation(sid)["messages"]
        self.assertEqual(len(first["images"]), 6)
        status, body, headers = self.request("GET", self.image_path(sid, first["id"], 0))
        self.assertEqual((status, headers["Content-Type"], body), (200, "image/png", PNG_1x1))
        for index, words in ((1, "not shown"), (2, "not image/png"), (3, "not image/jpeg"),
                             (4, "base64"), (5, "not shown")):
            self.assertIn(words, self.error(self.image_path(sid, first["id"], index), 400))
        self.assertIn("not stored", self.error(self.image_path(sid, second["id"]), 404))
        # the transcript was replaced under the reader: a clear 404, never another line's bytes
        with open(path, "w") as f:
            f.write(json.dumps(url) + "\n")
        self.assertEqual(self.request("GET", self.image_path(sid, first["id"]))[0], 404)

    def test_an_image_over_the_cap_is_413(self):
        sid = "22222222-2222-4333-8444-555555555555"
        big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(11 * 1024 * 1024)).decode()
        record = {"type": "user", "uuid": "u1", "timestamp": "2026-11-20T00:00:00.000Z",
                  "message": {"role": "user", "content": [{"type": "image", "source": {
                      "type": "base64", "media_type": "image/png", "data": big}}]}}
        with open(os.path.join(self.project(), sid + ".jsonl"), "w") as f:
            f.write(json.dumps(record) + "\n")
        [message] = self.conversation(sid)["messages"]
        self.assertIn("over 10 MB", self.error(self.image_path(sid, message["id"]), 413))

    def test_images_of_a_subagents_messages(self):
        # a subagent's own image (its Read of a PNG) through ?subagent=
        sid = SID
        path = self.install_recorded()
        folder = os.path.join(os.path.dirname(path), SID, "subagents")
        png = base64.b64encode(PNG_1x1).decode()
        with open(os.path.join(folder, "agent-%s.jsonl" % ECHO), "a") as f:
            f.write(json.dumps({"type": "assistant", "isSidechain": True, "agentId": ECHO,
                                "message": {"id": "m9", "role": "assistant", "content": [
                                    {"type": "tool_use", "id": "toolu_r9", "name": "Read",
                                     "input": {"file_path": "x.png"}}]}}) + "\n")
            f.write(json.dumps({"type": "user", "isSidechain": True, "agentId": ECHO,
                                "message": {"role": "user", "content": [
                                    {"type": "tool_result", "tool_use_id": "toolu_r9",
                                     "content": [{"type": "image", "source": {
                                         "type": "base64", "media_type": "image/png",
                                         "data": png}}]}]}}) + "\n")
        messages = self.conversation(sid, "?subagent=" + ECHO)["messages"]
        [(message, call)] = [(m, c) for m in messages for c in m["tool_calls"] if c.get("images")]
        status, body, _ = self.request("GET", self.image_path(
            sid, message["id"], 0, call["id"], "&subagent=" + ECHO))
        self.assertEqual((status, body), (200, PNG_1x1))
        self.error(self.image_path(sid, message["id"], 0, call["id"]), 404)  # not the parent's


if __name__ == "__main__":
    import unittest
    unittest.main()
