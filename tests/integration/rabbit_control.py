"""Stopping and starting the local RabbitMQ node for resilience tests, always bounded.

Only a node on this machine can be restarted (`rabbitmqctl` as root, or through `sudo -n`);
`RabbitControl.unavailable_reason` says why not otherwise. Whatever a test does, `ensure_up`
brings the node's application back and waits until the AMQP port answers, so the rest of the
suite finds RabbitMQ running.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

from tests.services import host_port

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COMMAND_TIMEOUT_S = 120.0


class RabbitControlError(RuntimeError):
    """A rabbitmqctl command failed or RabbitMQ did not come back in time."""


class RabbitControl:
    """Stop and start the RabbitMQ application of the node behind `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.host, self.port = host_port(url)
        self._prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]

    def unavailable_reason(self) -> str | None:
        """Why this node cannot be restarted from here, or None when it can."""
        if self.host not in LOCAL_HOSTS:
            return f"RabbitMQ at {self.host} is not local, so it cannot be restarted"
        for tool in ("rabbitmqctl", "rabbitmq-diagnostics"):
            if shutil.which(tool) is None:
                return f"{tool} is not installed"
        if self._prefix and shutil.which("sudo") is None:
            return "rabbitmqctl needs root and sudo is not installed"
        result = self._run("rabbitmq-diagnostics", "-q", "ping", check=False, timeout=30)
        if result.returncode != 0:
            return f"rabbitmq-diagnostics ping failed: {result.stderr.strip()[:300]}"
        return None

    # -- commands --------------------------------------------------------------------------

    def _run(
        self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(
                [*self._prefix, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RabbitControlError(f"{' '.join(args)} did not finish in {timeout} s") from exc
        if check and result.returncode != 0:
            raise RabbitControlError(
                f"{' '.join(args)} exited {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()[:500]}"
            )
        return result

    def node_up(self) -> bool:
        """The Erlang node answers (its RabbitMQ application may be stopped)."""
        return (
            self._run("rabbitmq-diagnostics", "-q", "ping", check=False, timeout=30).returncode == 0
        )

    def app_running(self) -> bool:
        """The RabbitMQ application is running on the node."""
        result = self._run("rabbitmq-diagnostics", "-q", "check_running", check=False, timeout=30)
        return result.returncode == 0

    def stop_app(self) -> None:
        """Stop the RabbitMQ application (closes every connection); the node stays up."""
        self._run("rabbitmqctl", "stop_app")

    def start_app(self) -> None:
        """Start the application again and wait until it accepts AMQP and has settled."""
        self._run("rabbitmqctl", "start_app")
        self.wait_amqp(COMMAND_TIMEOUT_S)
        self.settle()

    def ensure_up(self, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        """Whatever state the node is in, bring it back and wait for AMQP (bounded)."""
        if not self.node_up():
            self._run("rabbitmq-server", "-detached", check=False)
            deadline = time.monotonic() + timeout_s
            while not self.node_up():
                if time.monotonic() > deadline:
                    raise RabbitControlError(f"the RabbitMQ node did not answer in {timeout_s} s")
                time.sleep(0.5)
        if not self.app_running():
            self._run("rabbitmqctl", "start_app")
        self._run("rabbitmqctl", "await_startup", "--timeout", str(int(timeout_s)))
        self.wait_amqp(timeout_s)
        self.settle()
        self.heal_dead_letter_workers()

    # -- RabbitMQ 3.10 at-least-once dead-lettering after a restart -------------------------
    #
    # Every quorum queue with `x-dead-letter-strategy: at-least-once` has a worker under the
    # node's `rabbit_fifo_dlx_sup`. Just after a restart the workers wait for their queue's
    # leader; deleting a queue then crashes its worker, and two such crashes exhaust the
    # supervisor's restart intensity: it stops for good and every at-least-once queue declared
    # afterwards fails with INTERNAL_ERROR until the application restarts (seen on 3.10.8;
    # upstream rabbitmq/rabbitmq-server#16652). So after a restart wait for the workers to
    # settle before anything deletes queues, and bring the supervisor back if it died.

    def _eval(self, expression: str) -> str | None:
        result = self._run("rabbitmqctl", "eval", expression, check=False, timeout=30)
        return result.stdout.strip() if result.returncode == 0 else None

    def dead_letter_workers(self) -> int | None:
        """Running at-least-once dead-letter workers, or None if that cannot be read."""
        out = self._eval(
            "case whereis(rabbit_fifo_dlx_sup) of undefined -> -1; _ -> "
            "proplists:get_value(active, supervisor:count_children(rabbit_fifo_dlx_sup)) end."
        )
        try:
            return int(out) if out is not None else None
        except ValueError:
            return None

    def settle(self, timeout_s: float = 20.0, quiet_s: float = 1.5) -> None:
        """Wait (bounded) until the number of dead-letter workers stops changing."""
        deadline = time.monotonic() + timeout_s
        last, since = self.dead_letter_workers(), time.monotonic()
        while last is not None and time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.dead_letter_workers()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return

    def heal_dead_letter_workers(self) -> bool:
        """Restart `rabbit_fifo_dlx_sup` if it died; True when it had to."""
        if self.dead_letter_workers() != -1:
            return False
        self._eval("supervisor:restart_child(rabbit_sup, rabbit_fifo_dlx_sup).")
        if self.dead_letter_workers() == -1:
            raise RabbitControlError("rabbit_fifo_dlx_sup is down and could not be restarted")
        return True

    def wait_amqp(self, timeout_s: float) -> None:
        """Wait until an AMQP connection opens (the TCP port alone opens slightly earlier)."""
        deadline = time.monotonic() + timeout_s
        last: BaseException | None = None
        while time.monotonic() < deadline:
            try:
                if amqp_answers(self.host, self.port):
                    return
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.2)
        raise RabbitControlError(f"RabbitMQ's AMQP port did not answer in {timeout_s} s: {last!r}")


def amqp_answers(host: str, port: int, timeout_s: float = 3.0) -> bool:
    """Send the AMQP 0-9-1 protocol header; a broker that accepts connections answers with a
    Connection.Start method frame (type 1, channel 0, class 10, method 10)."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        head = b""
        while len(head) < 11:
            chunk = sock.recv(11 - len(head))
            if not chunk:
                return False
            head += chunk
    return head[0] == 1 and head[1:3] == b"\x00\x00" and head[7:11] == b"\x00\x0a\x00\x0a"
