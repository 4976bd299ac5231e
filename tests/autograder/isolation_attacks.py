"""The code of each hostile answer cell of test_isolation.py (one function per row of issue #14).

Each attack prints one line `TAG {json}` with what it achieved, so the test can tell "contained" from
"did not run". They only ever talk to 127.0.0.1 and to Unix sockets the test made.
"""
from __future__ import annotations


def read_everything() -> str:
    """Read every file the kernel's working folder got (support files) and print it."""
    return '''
import os
for name in sorted(os.listdir(".")):
    if name.startswith(".") or not os.path.isfile(name):
        continue
    try:
        with open(name, "rb") as fh:
            data = fh.read(200_000)
        print("READ", name, data[:4000])
    except OSError as exc:
        print("READ", name, "failed", exc)
'''


def net_probe(port: int, abstract: str, path: str) -> str:
    return f'''
import glob, json, os, socket
def _attempt(family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(address)
        return "connected"
    except OSError as exc:
        return type(exc).__name__ + ": " + str(exc)
    finally:
        s.close()
def _lines(path):
    try:
        return open(path).read().splitlines()[1:]
    except OSError:
        return []
found = {{}}
found["interfaces"] = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:])
found["routes"] = _lines("/proc/net/route")
found["routes6"] = [l for l in open("/proc/net/ipv6_route").read().splitlines()
                    if not l.split()[-1] == "lo"] if os.path.exists("/proc/net/ipv6_route") else []
found["host_port_visible"] = any(int(l.split()[1].split(":")[1], 16) == {port} for l in _lines("/proc/net/tcp"))
found["tcp_host"] = _attempt(socket.AF_INET, ("127.0.0.1", {port}))
found["abstract"] = _attempt(socket.AF_UNIX, "\\0" + {abstract!r})
found["unix_path"] = _attempt(socket.AF_UNIX, {path!r})
mine = os.getcwd()
found["foreign_unix"] = sorted({{l.split()[-1] for l in _lines("/proc/net/unix") if len(l.split()) > 7
                                and not l.split()[-1].startswith(mine)}})
found["own_folder"] = os.path.basename(mine)
found["jobs_folder"] = sorted(os.listdir("/tmp/autograder-jobs")) if os.path.isdir("/tmp/autograder-jobs") else None
print("NETPROBE " + json.dumps(found))
'''


def fork_memory(children: int, mib: int) -> tuple[str, str]:
    """Two cells: fork children that each fill `mib` MiB; then wait for them (reclaim before an
    out-of-memory kill can take a few seconds, each cell has its own timeout)."""
    fork = f'''
import json, os, time
kids = []
for i in range({children}):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(b"\\x01") * ({mib} * 2**20)   # touched, so really resident
            time.sleep(1)
            os._exit(0)
        except MemoryError:
            os._exit(3)
        except BaseException:
            os._exit(4)
    kids.append(pid)
'''
    collect = '''
statuses = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
print("FORKMEM " + json.dumps({"statuses": statuses, "kernel_vm": status["VmSize"].strip(),
                               "kernel_rss": status["VmRSS"].strip()}))
'''
    return fork, collect


def spinners(count: int) -> str:
    """Children that spin until the slot's cleanup kills them (the test adds cells that keep the
    notebook alive meanwhile). Each child waits a moment first, so that the forking itself is quick."""
    return f'''
import json, os, time
started, error = 0, ""
for i in range({count}):
    try:
        pid = os.fork()
    except OSError as exc:
        error = str(exc)
        break
    if pid == 0:
        time.sleep(2)
        while True:
            pass
    started += 1
print("SPIN " + json.dumps({{"started": started, "error": error}}))
'''


def keep_alive(seconds: int) -> str:
    return f"import time\ntime.sleep({seconds})"


def disk_fill(files: int, mib: int) -> str:
    return f'''
import json, os
written = {{}}
chunk = b"\\x01" * 2**20
for folder in (".", "/tmp", "/dev/shm", "/var/tmp"):
    total = 0
    try:
        for i in range({files}):
            with open(os.path.join(folder, "fill%d" % i), "wb") as fh:
                for _ in range({mib}):
                    fh.write(chunk)
                    total += len(chunk)
    except OSError:
        pass
    written[folder] = total
    for i in range({files}):   # make room for the next folder's attempt (the memory cgroup counts tmpfs)
        try:
            os.remove(os.path.join(folder, "fill%d" % i))
        except OSError:
            pass
print("DISKFILL " + json.dumps(written))
'''


def display_flood(handles: int, mib: int) -> str:
    return f'''
from IPython.display import display
shown = [display("placeholder %d" % i, display_id=True) for i in range({handles})]
big = "x" * ({mib} * 2**20)
for h in shown:
    h.update(big)
print("DISPLAYED", len(shown))
'''


def leave_behind(lock_file: str, key: int, token: str) -> str:
    return f'''
import ctypes, json
found = {{}}
with open({lock_file!r}, "w") as fh:
    fh.write({token!r})
found["lock_file"] = True
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget({key}, 4096, 0o1666)   # IPC_CREAT | 0666
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0)
    ctypes.memmove(addr, {token!r}.encode(), len({token!r}))
found["shm"] = shmid
print("LEFTOVER " + json.dumps(found))
'''


def spy(lock_file: str, key: int) -> str:
    return f'''
import ctypes, json
found = {{}}
try:
    found["lock_file"] = open({lock_file!r}).read()
except OSError:
    found["lock_file"] = None
libc = ctypes.CDLL(None, use_errno=True)
found["shm"] = "present" if libc.shmget({key}, 0, 0) >= 0 else "absent"
print("SPY " + json.dumps(found))
'''
