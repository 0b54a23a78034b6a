"""Access policies and roles of the REST endpoints, in pulp_file's shape."""

APP = "hugging_face"


def perm(model, action):
    """The codename of `action` on one of this plugin's models."""
    return f"{APP}.{action}_{model}"


def access_policy(model, create_conditions=(), update_conditions=(), extra_statements=()):
    """The pulp_file-style policy: creators own what they create, viewers see it."""
    view = f"has_model_or_domain_or_obj_perms:{perm(model, 'view')}"
    return {
        "statements": [
            {
                "action": ["list", "retrieve", "my_permissions"],
                "principal": "authenticated",
                "effect": "allow",
            },
            {
                "action": ["create"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_perms:{perm(model, 'add')}"]
                + list(create_conditions),
            },
            {
                "action": ["update", "partial_update", "set_label", "unset_label"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_or_obj_perms:{perm(model, 'change')}", view]
                + list(update_conditions),
            },
            {
                "action": ["destroy"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_or_obj_perms:{perm(model, 'delete')}", view],
            },
            {
                "action": ["list_roles", "add_role", "remove_role"],
                "principal": "authenticated",
                "effect": "allow",
                "condition": [f"has_model_or_domain_or_obj_perms:{perm(model, 'manage_roles')}"],
            },
            *extra_statements,
        ],
        "creation_hooks": [
            {
                "function": "add_roles_for_object_creator",
                "parameters": {"roles": f"{APP}.{model}_owner"},
            },
        ],
        "queryset_scoping": {"function": "scope_queryset"},
    }


def locked_roles(model, extra_owner_perms=()):
    """Creator, owner and viewer roles for `model`."""
    owner = [perm(model, a) for a in ("view", "change", "delete", "manage_roles")]
    return {
        f"{APP}.{model}_creator": [perm(model, "add")],
        f"{APP}.{model}_owner": owner + [perm(model, a) for a in extra_owner_perms],
        f"{APP}.{model}_viewer": [perm(model, "view")],
    }


CONTENT_ACCESS_POLICY = {
    "statements": [
        {"action": ["list", "retrieve"], "principal": "authenticated", "effect": "allow"},
        {
            "action": ["set_label", "unset_label"],
            "principal": "authenticated",
            "effect": "allow",
            "condition": ["has_model_or_domain_perms:core.manage_content_labels"],
        },
    ],
    "queryset_scoping": {"function": "scope_queryset"},
}
