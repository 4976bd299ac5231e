"""What a kernel can put into the graded notebook: bounded per cell and for the whole notebook.

nbclient writes a kernel's messages into the notebook by three paths, and each one is capped here:
- `output`: a new output (stream, display_data, execute_result, error) is appended to the cell;
- `_update_display_id`: `update_display_data` (and a display_data reusing a display id) REWRITES earlier
  outputs in place, in any cell, without going through `output` — 20 handles updated with 5 MiB each
  would make a 100 MB notebook under a cap that only watches `output`;
- `handle_comm_msg`: widget state is stored in the notebook's metadata; the grader is not a frontend,
  so comm messages are ignored altogether (no widget state, no Output-widget capture).
The decision is taken before anything is stored, so the worker's memory stays bounded too.
"""
from __future__ import annotations

import json

from nbclient import NotebookClient

MARKER = "\n... output truncated by the autograder (over {where}) ...\n"
UPDATE_NOTE = "... output truncated by the autograder (a display update over the output limit) ..."


def _size(obj) -> int:
    return len(json.dumps(obj, default=str))


class CappedOutputs(NotebookClient):
    """A NotebookClient whose outputs fit `max_output_bytes` per cell and `max_notebook_bytes` in all."""

    def __init__(self, nb, max_output_bytes: int, max_notebook_bytes: int, **kw):
        super().__init__(nb, store_widget_state=False, **kw)
        self.max_output_bytes = max_output_bytes
        self.max_notebook_bytes = max_notebook_bytes
        self.used: dict[int, int] = {}
        self.total_used = 0
        self.truncated: set[int] = set()
        self._sizes: dict[tuple[int, int], int] = {}   # (cell, output index) -> bytes it counts for

    def _room(self, cell_index: int) -> tuple[int, str]:
        cell_left = self.max_output_bytes - self.used.get(cell_index, 0)
        nb_left = self.max_notebook_bytes - self.total_used
        if nb_left < cell_left:
            return nb_left, f"{self.max_notebook_bytes} bytes for the whole notebook"
        return cell_left, f"{self.max_output_bytes} bytes for one cell"

    def _charge(self, cell_index: int, size: int) -> None:
        self.used[cell_index] = self.used.get(cell_index, 0) + size
        self.total_used += size

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = _size(content)
        left, where = self._room(cell_index)
        if size <= left:
            out = super().output(outs, msg, display_id, cell_index)
            if out is not None:
                self._sizes[(cell_index, len(outs) - 1)] = size
                self._charge(cell_index, size)
            return out
        # Over the budget: nothing more of this cell counts, and it says so once.
        self._charge(cell_index, max(left, 0))
        if cell_index in self.truncated:
            return None
        self.truncated.add(cell_index)
        marker = MARKER.format(where=where)
        if msg.get("msg_type") == "stream" and left > 200:
            text = content.get("text", "")[: left - 200] + marker
            return super().output(outs, _stream(msg, content.get("name", "stdout"), text), None, cell_index)
        return super().output(outs, _stream(msg, "stderr", marker), None, cell_index)

    def _update_display_id(self, display_id, msg):
        """Rewrites earlier outputs in place: charge the growth of every output it rewrites, and
        replace the update by a short note when it does not fit."""
        targets = self._display_id_map.get(display_id, {})
        content = msg.get("content", {})
        new = _size({"data": content.get("data", {}), "metadata": content.get("metadata", {})})
        growth: dict[int, int] = {}
        for cell_idx, indices in targets.items():
            for i in indices:
                growth[cell_idx] = growth.get(cell_idx, 0) + new - self._sizes.get((cell_idx, i), 0)
        fits = all(g <= self._room(c)[0] for c, g in growth.items()) and \
            sum(growth.values()) <= self.max_notebook_bytes - self.total_used
        if not fits:
            msg = {**msg, "content": {**content, "data": {"text/plain": UPDATE_NOTE}, "metadata": {}}}
            new = _size({"data": msg["content"]["data"], "metadata": {}})
            self.truncated.update(growth)
            growth = {c: 0 for c in growth}
        super()._update_display_id(display_id, msg)
        for cell_idx, indices in targets.items():
            for i in indices:
                old = self._sizes.get((cell_idx, i), 0)
                self._sizes[(cell_idx, i)] = new
                self._charge(cell_idx, new - old)

    def handle_comm_msg(self, outs, msg, cell_index):
        return None  # no widgets while grading: comm traffic never reaches the notebook

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        # Cleared outputs no longer count; their indices may be reused by the next outputs.
        if not msg.get("content", {}).get("wait"):
            self._forget(cell_index)

    def _forget(self, cell_index: int) -> None:
        for key in [k for k in self._sizes if k[0] == cell_index]:
            del self._sizes[key]


def _stream(msg, name: str, text: str) -> dict:
    return {**msg, "msg_type": "stream", "header": {**msg.get("header", {}), "msg_type": "stream"},
            "content": {"name": name, "text": text}}
