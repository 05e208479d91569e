#!/usr/bin/python
# A small module of the test collection: writes "hello NAME" to path (idempotent).
from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={"name": {"type": "str", "required": True}, "path": {"type": "path"}},
        supports_check_mode=True,
    )
    path, want = module.params["path"], f"hello {module.params['name']}\n"
    changed = False
    if path:
        have = None
        if os.path.exists(path):
            with open(path) as f:
                have = f.read()
        changed = have != want
        if changed and not module.check_mode:
            with open(path, "w") as f:
                f.write(want)
    module.exit_json(changed=changed, greeting=want.strip())


if __name__ == "__main__":
    main()
