"""Kernel side of the grading protocol: snapshots of the student's kernel, and the value codec.

This file is PUBLIC code: the worker sends its text into every student kernel at start (as a module
named `_autograder_snapshot`, outside the user namespace), and the grader imports the same file for
the codec. It imports nothing from `autograder` (the jail hides the package) and holds no secret.

    snapshot(grade_id, socket_path)   called (silently) by the worker after each graded cell

The kernel forks; the child leaves the kernel's process group (a cell-timeout SIGINT to the group must
not reach it), silences stdout/stderr, connects to the worker's Unix socket, says which grade id it
holds and waits. The worker answers only after the notebook has finished and the kernel is dead: it
sends the checks (kernel code + inputs), the child evaluates each one in its copy of the user
namespace and replies with plain data. Expected values never come here.

Values cross as JSON: numbers/str/bool/None as themselves, arrays as base64 .npy (read back with
allow_pickle=False), lists/tuples/dicts recursively; anything else only as its type name, so an object
with a fake __eq__ or a patched ndarray subclass hands over nothing but its plain data.
"""
import ast
import base64
import builtins
import io
import json
import os
import signal
import socket
import struct
import sys

import numpy as np

MAX_VALUE_BYTES = 8 * 2**20      # per handed-over value (encoded); bigger ones are refused
MAX_MESSAGE_BYTES = 16 * 2**20   # per socket message (one value of MAX_VALUE_BYTES fits, base64)
MAX_DEPTH = 6

# Taken when this module is loaded, i.e. before any student code ran: the child restores builtins and
# uses these numpy entry points, so patches made by student code change neither.
_PRISTINE_BUILTINS = dict(vars(builtins))
_ndarray = np.ndarray
_asarray = np.asarray
_write_array = np.lib.format.write_array
_read_array = np.lib.format.read_array
_PLAIN = (bool, int, float, str, type(None))


class CodecError(ValueError):
    pass


def encode(value, depth=0):
    """Plain-data form of a value (JSON-serialisable). Never calls methods of student classes."""
    t = type(value)  # type() cannot be faked by a __class__ property
    if t in _PLAIN:
        if t is str and len(value) > MAX_VALUE_BYTES:
            raise CodecError(f"string of {len(value)} characters is too large to hand over")
        return {"t": "py", "v": value}
    if depth > MAX_DEPTH:
        return {"t": "other", "type": "nested too deep"}
    if issubclass(t, _ndarray) or issubclass(t, np.generic):
        # The C-level data only: a subclass's overridden methods are not called.
        arr = _ndarray.view(value, _ndarray) if issubclass(t, _ndarray) else _asarray(value)
        if arr.dtype.hasobject or arr.dtype.fields is not None:
            return {"t": "other", "type": f"array of dtype {arr.dtype}"}
        if arr.nbytes > MAX_VALUE_BYTES:
            raise CodecError(f"array of {arr.nbytes} bytes is too large to hand over")
        buf = io.BytesIO()
        _write_array(buf, _ndarray.copy(arr, order="C"), allow_pickle=False)  # keeps 0-d arrays 0-d
        return {"t": "nd", "npy": base64.b64encode(buf.getvalue()).decode("ascii")}
    if t in (list, tuple):  # exactly list/tuple (a subclass is "other"), so iteration is the builtin one
        return {"t": t.__name__, "items": [encode(v, depth + 1) for v in value]}
    if t is dict:
        items = []
        for k, v in dict.items(value):
            if type(k) is not str:
                return {"t": "other", "type": "dict with non-string keys"}
            items.append([k, encode(v, depth + 1)])
        return {"t": "dict", "items": items}
    return {"t": "other", "type": _type_name(t)}


def _type_name(t):
    name = getattr(t, "__qualname__", None)
    mod = getattr(t, "__module__", None)
    name = name if type(name) is str else "object"
    mod = mod if type(mod) is str else ""
    full = f"{mod}.{name}" if mod and mod != "builtins" else name
    return full[:80]


class Other:
    """A handed-over value that was not plain data (only its type name crossed)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def decode(data):
    """Inverse of encode; arrays are read with allow_pickle=False. Raises CodecError on bad data."""
    if type(data) is not dict or "t" not in data:
        raise CodecError("malformed value")
    t = data["t"]
    if t == "py":
        v = data.get("v")
        if type(v) not in _PLAIN:
            raise CodecError("malformed plain value")
        return v
    if t == "nd":
        raw = base64.b64decode(data.get("npy", ""), validate=True)
        if len(raw) > MAX_VALUE_BYTES + 4096:
            raise CodecError("array too large")
        return _read_array(io.BytesIO(raw), allow_pickle=False)
    if t in ("list", "tuple"):
        items = [decode(v) for v in data.get("items", [])]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {str(k): decode(v) for k, v in data.get("items", [])}
    if t == "other":
        return Other(str(data.get("type", "object"))[:80])
    raise CodecError(f"unknown value kind {t!r}")


def send_msg(sock, obj):
    payload = json.dumps(obj).encode()
    if len(payload) > MAX_MESSAGE_BYTES:
        payload = json.dumps({"error": "reply too large"}).encode()
    sock.sendall(struct.pack("!I", len(payload)) + payload)


def recv_msg(sock, limit=MAX_MESSAGE_BYTES):
    head = _recv_exact(sock, 4)
    (size,) = struct.unpack("!I", head)
    if size > limit:
        raise CodecError(f"message of {size} bytes is over the limit")
    return json.loads(_recv_exact(sock, size))


def _recv_exact(sock, n):
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def evaluate(code, namespace):
    """Run `code` (statements, last line an expression) in `namespace`; return the last value."""
    tree = ast.parse(code, mode="exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<check>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<check>", "eval"), namespace)


def run_check(check, user_ns):
    """One check in the child: {kind, code, inputs} -> {"ok": True, "value": ...} or {"ok": False, "error"}."""
    builtins.__dict__.update(_PRISTINE_BUILTINS)  # student code may have patched them since
    ns = dict(user_ns)
    try:
        for name, enc in check.get("inputs", {}).items():
            ns[name] = decode(enc)
        if check["kind"] == "raises":
            try:
                evaluate(check["code"], ns)
            except BaseException as exc:  # noqa: BLE001 - the check is about which exception
                names = [c.__name__ for c in type(exc).__mro__ if type(c.__name__) is str]
                return {"ok": True, "value": encode({"raised": names[:20], "message": _short(exc)})}
            return {"ok": True, "value": encode({"raised": [], "message": ""})}
        value = evaluate(check["code"], ns)
        if check["kind"] == "graph":
            from minigraph.testing import graph_summary
            value = graph_summary(value)
        return {"ok": True, "value": encode(value)}
    except BaseException as exc:  # noqa: BLE001 - reported to the grader as the check's failure
        text = _short(exc)
        return {"ok": False, "error": f"{_type_name(type(exc))}: {text}" if text else _type_name(type(exc))}


def _short(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a student's exception with a broken __str__
        text = ""
    text = text if type(text) is str else ""
    return text[:300]


def _child(grade_id, socket_path, user_ns):
    # Leave the kernel's process group: nbclient interrupts a slow cell with SIGINT to the group.
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # the kernel's streams write to zmq: not ours
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    send_msg(sock, {"grade_id": grade_id, "pid": os.getpid()})
    request = recv_msg(sock)  # blocks until the notebook is over and the kernel is dead
    for check in request.get("checks", []):
        send_msg(sock, run_check(check, user_ns))
    sock.close()


def snapshot(grade_id, socket_path):
    """Fork a frozen copy of this kernel for grade id `grade_id` (see the module docstring)."""
    user_ns = sys.modules["__main__"].__dict__
    try:
        ip = get_ipython()  # noqa: F821 - defined in IPython kernels
        user_ns = ip.user_ns
    except NameError:
        pass
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _child(grade_id, socket_path, user_ns)
        except BaseException:  # noqa: BLE001 - the grader sees the missing replies
            code = 1
        os._exit(code)
    return pid
