"""A long kernel body becomes parts: njit functions of ~PART_LINES lines each, which the kernel
calls in order, handing each part the values it reads and taking back those later code reads.

Why: numba's compile time grows faster than the length of a function. The SVI GP notebook's step
(945 lines, one function) took 72-83 s to compile: 14 s of type inference and 37-50 s in LLVM,
22 s of which was one pass (SROA) over the one huge function. Parts are typed and optimized one
at a time, and LLVM's later pass over the linked module sees code that is already optimized.
Measured numbers are in PART_LINES's comment.

The entry that calls the parts is plain Python (driver.py): an njit entry linked the parts' code
into its own module, and LLVM optimized and compiled all of it once more (5 s of the GP step's
33 s). A scan body, which njit code calls, keeps an njit entry.

The parts hold the very lines the single function held, in the same order, so results are the
same bits; a failed shape check raises the same ValueError from inside its part."""
import ast

# Only a body of more than SPLIT_ABOVE lines is split, into parts of PART_LINES lines. numba's
# compile (CPU seconds, summed over the functions it compiled) grows faster than the length:
#   SVI GP step, 945 lines: one function 65 s; parts of 60 lines 39 s, 120 lines 38 s, 250 lines
#   40 s (load 3); on a quieter machine parts of 120 lines 32 s, of 300 lines 47 s. The step then
#   runs at the same speed (2.4-2.6 ms).
#   SVI 1's 17 kernels of 80-290 lines: 42 s unsplit, 61 s split into 120-line parts (the
#   relinking costs more than the parts save at that size). With the Python entry (no relinking)
#   splitting above 200 lines instead of 600 still gained nothing: the SVI 1 notebook's run under
#   the numba backend, empty cache, took 60.9 and 63.1 s against 56.1 and 66.1 s.
# Each extra njit function also costs about 0.05 s (the logistic-regression step is 60 lines).
PART_LINES = 120
SPLIT_ABOVE = 600


def _names(statements):
    """(names read, names written) by `statements`; `x += 1` both reads and writes x."""
    read, written = set(), set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name):
                (read if isinstance(node.ctx, ast.Load) else written).add(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                read.add(node.target.id)
    return read, written


def _chunks(lines, part_lines):
    """The top-level statements of `lines`, grouped into runs of about `part_lines` lines:
    [(statements, their source lines)]. A statement (a loop, an if) is never cut."""
    tree = ast.parse("\n".join(lines))
    chunks, current, size = [], [], 0
    for statement in tree.body:
        length = statement.end_lineno - statement.lineno + 1
        if current and size + length > part_lines:
            chunks.append(current)
            current, size = [], 0
        current.append(statement)
        size += length
    if current:
        chunks.append(current)
    return [(chunk, lines[chunk[0].lineno - 1:chunk[-1].end_lineno]) for chunk in chunks]


def _tuple(names):
    return f"({''.join(n + ', ' for n in names)})"


def _decorator(parallel):
    return f"@njit(cache=True, error_model='numpy', nogil=True{', parallel=True' if parallel else ''})\n"


def function_source(name, params, lines, results, parallel, part_lines=None, driver=True):
    """Source of `def name(*params)`: `lines` (top-level statements, not indented), then
    `return (*results,)`, compiled by numba with parallel loops or not; split into parts if long,
    called by a plain Python entry (driver.py) unless `driver` is False.
    Only parts with a `prange` loop are marked parallel (numba warns about the others)."""
    part_lines = part_lines or PART_LINES
    chunks = _chunks(lines, part_lines) if len(lines) > max(part_lines, SPLIT_ABOVE) else []
    if len(chunks) < 2:
        body = "".join(f"    {line}\n" for line in lines)
        return f"\n\n{_decorator(parallel)}def {name}({', '.join(params)}):\n{body}    return {_tuple(results)}\n"
    reads = [_names(chunk)[0] for chunk, _ in chunks]
    defined, parts, calls = set(params), [], []
    for k, (chunk, chunk_lines) in enumerate(chunks):
        written = _names(chunk)[1]
        later = set(results).union(*reads[k + 1:])
        inputs = sorted(reads[k] & defined)
        outputs = sorted(written & later)
        part = f"p{k}_{name}"                  # not `kernel...`: cache.in_disk_cache looks for those
        body = "".join(f"    {line}\n" for line in chunk_lines)
        decorator = _decorator(parallel and any("prange(" in line for line in chunk_lines))
        parts.append(f"\n\n{decorator}def {part}({', '.join(inputs)}):\n{body}    return {_tuple(outputs)}\n")
        calls.append(f"    {_tuple(outputs)} = {part}({', '.join(inputs)})\n" if outputs
                     else f"    {part}({', '.join(inputs)})\n")
        defined |= written
    # The entry is plain Python (driver.py: numba would link every part into it and compile them all
    # again); `driver=False` (a scan body, which njit code calls) makes it an njit function.
    decorator = "" if driver else _decorator(False)
    return ("".join(parts) + f"\n\n{decorator}def {name}({', '.join(params)}):\n" + "".join(calls)
            + f"    return {_tuple(results)}\n")
