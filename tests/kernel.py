"""Drive a real IPython kernel as a front end does: outputs, display updates, stdin prompts."""

from __future__ import annotations

import queue
import time

from jupyter_client.manager import start_new_kernel


class Kernel:
    def __init__(self, env: dict[str, str]):
        self.manager, self.client = start_new_kernel(kernel_name="python3", env=env, startup_timeout=60)
        self.prompts: list[dict] = []  # every input_request the kernel sent

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def run(self, code: str, on_display=None, on_prompt=None, timeout: float = 60) -> list[dict]:
        """Execute ``code``; return the cell's final outputs (display updates applied)."""
        msg_id = self.client.execute(code, allow_stdin=on_prompt is not None)
        outputs: list[dict] = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            if on_prompt is not None:
                try:
                    request = self.client.get_stdin_msg(timeout=0.05)
                except queue.Empty:
                    pass
                else:
                    # What the front end shows before the prompt arrives first (other channel).
                    while self._next(msg_id, outputs, on_display, wait=0.3) is not None:
                        pass
                    self.prompts.append(request["content"])
                    self.client.input(on_prompt(request["content"]))
            if self._next(msg_id, outputs, on_display, wait=0.05) == "idle":
                self.reply = self._reply_to(msg_id)
                return outputs
        raise TimeoutError(f"cell did not finish within {timeout} s: {code!r}")

    def _reply_to(self, msg_id) -> dict:
        """The shell reply to ``msg_id``, past any other one still queued (jupyter_client 7's
        start_new_kernel leaves its kernel_info_reply there)."""
        while True:
            reply = self.client.get_shell_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    def _next(self, msg_id, outputs, on_display, wait):
        """Handle one iopub message of this cell; None when there was none."""
        try:
            msg = self.client.get_iopub_msg(timeout=wait)
        except queue.Empty:
            return None
        if msg["parent_header"].get("msg_id") != msg_id:
            return "other"
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return "idle"
        if kind == "update_display_data":
            display_id = content.get("transient", {}).get("display_id")
            for output in outputs:
                if output.get("display_id") == display_id:
                    output["data"] = content["data"]
        elif kind in ("stream", "display_data", "execute_result", "error"):
            output = dict(content, output_type=kind)
            output["display_id"] = content.get("transient", {}).get("display_id")
            outputs.append(output)
            if kind == "display_data" and on_display is not None:
                on_display(content["data"])
        return kind


def text_of(outputs: list[dict]) -> str:
    parts = []
    for output in outputs:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        else:
            parts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(parts)
