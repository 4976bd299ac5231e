"""Leave students only the nbgrader extension they use: "Validate".

    python binder/student_extensions.py              # postBuild: {sys.prefix}/etc/jupyter (this environment)
    python binder/student_extensions.py CONFIG_DIR   # tests/e2e: a private JUPYTER_CONFIG_DIR

Writes what `jupyter labextension disable --level=sys_prefix` and `jupyter server extension disable
--sys-prefix` would write (labconfig/page_config.json and jupyter_server_config.json), merged into
what is there. Written directly because `jupyter server extension disable --user` refuses an extension
that is enabled at another level, and the browser test needs the same settings in a private config dir.

Disabled, instructor-only: formgrader (grading UI), create-assignment (the cell toolbar that edits
grading metadata), course-list (the courses an instructor teaches).
Disabled because Binder has no nbgrader exchange: assignment-list (fetch/submit through the exchange
folder) and the "Nbgrader" menu (it only opens the panels above).
Kept: validate-assignment, the notebook toolbar's "Validate" button (runs the notebook, lists failing checks).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

LAB_PLUGINS_OFF = [f"@jupyter/nbgrader:{p}"
                   for p in ("formgrader", "create-assignment", "course-list", "assignment-list", "menu")]
LAB_PLUGINS_ON = ["@jupyter/nbgrader:validate-assignment"]
SERVER_EXTENSIONS = {f"nbgrader.server_extensions.{name}": False
                     for name in ("formgrader", "course_list", "assignment_list")}
SERVER_EXTENSIONS["nbgrader.server_extensions.validate_assignment"] = True


def _update(path: Path, change) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    change(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def apply(config_dir: Path) -> None:
    def lab(data):
        disabled = data.setdefault("disabledExtensions", {})
        if isinstance(disabled, list):  # the older list form
            disabled = data["disabledExtensions"] = {name: True for name in disabled}
        disabled.update({name: True for name in LAB_PLUGINS_OFF})
        for name in LAB_PLUGINS_ON:
            disabled.pop(name, None)

    def server(data):
        data.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {}).update(SERVER_EXTENSIONS)

    _update(config_dir / "labconfig" / "page_config.json", lab)
    _update(config_dir / "jupyter_server_config.json", server)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(sys.prefix) / "etc" / "jupyter"
    apply(target)
    print(f"student nbgrader extensions: only validate-assignment left on, in {target}")
