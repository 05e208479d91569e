#!/usr/bin/python
# Copyright: acme infra team
# MIT License

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kv_file
short_description: Set or remove one key in a key=value file
version_added: 1.0.0
description:
  - Keeps comments and the order of other keys; writes atomically.
options:
  path:
    description: The file.
    type: path
    required: true
  key:
    description: The key.
    type: str
    required: true
  value:
    description: The value (required with O(state=present)).
    type: str
  state:
    type: str
    choices: [present, absent]
    default: present
  separator:
    type: str
    default: "="
  spaced:
    description: Write C(key = value) instead of C(key=value).
    type: bool
    default: false
  create:
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.files
author:
  - acme infra team
"""

EXAMPLES = r"""
- acme.infra.kv_file:
    path: /etc/app.conf
    key: workers
    value: "4"
"""

RETURN = r"""
previous:
  description: The key's value before, null when it was not set.
  type: str
  returned: always
key:
  description: The key.
  type: str
  returned: always
value:
  description: The key's value now.
  type: str
  returned: always
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.acme.infra.plugins.module_utils.kvfile import parse, render, value_of


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            separator=dict(type="str", default="="),
            spaced=dict(type="bool", default=False),
            create=dict(type="bool", default=True),
        ),
        required_if=[("state", "present", ["value"])],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    key = module.params["key"]
    separator = module.params["separator"]
    value = module.params["value"] if module.params["state"] == "present" else None

    exists = os.path.exists(path)
    if not exists and not module.params["create"]:
        module.fail_json(msg="%s does not exist" % path, rc=257)
    before = ""
    if exists:
        with open(path) as f:
            before = f.read()
    lines = parse(before, separator)
    previous = value_of(lines, key, separator)
    after = render(lines, key, value, separator, module.params["spaced"])
    changed = after != before

    result = dict(changed=changed, key=key, value=value, previous=previous)
    if module._diff:
        result["diff"] = dict(before=before, after=after, before_header=path, after_header=path)
    if changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".")
        with os.fdopen(fd, "w") as f:
            f.write(after)
        module.atomic_move(tmp, path)
    if os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
