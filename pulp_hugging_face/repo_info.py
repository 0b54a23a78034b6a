"""The Hub's repo info answers (`model_info`, `dataset_info`, `revision/{rev}`) at one commit.

The Hub answers `GET /api/{type}s/{repo}[/revision/{rev}]` with its default fields, or, given
`expand=` (repeated), with `_id`, `id` and the fields named only. Clients ask with their own
selections (huggingface.js names seven fields, `snapshot_download` none), so what is known of a
commit is kept as one `Record` that answers every selection it covers: the default answer's
fields, fields learned from `expand` answers, and which fields upstream was asked for and did
not have. Pure functions only, so the content handler and the tests share one definition.
"""

from dataclasses import dataclass, field

ALWAYS = ("_id", "id")  # in every answer, whatever the selection


class NotASelection(ValueError):
    """The query asks for more than a selection of fields (e.g. `blobs=true`)."""


def selection(query):
    """The fields a query selects: None for the default answer, else a tuple (in the order
    asked, once each). Raises NotASelection for a query with any other parameter."""
    if any(key != "expand" for key in query.keys()):
        raise NotASelection()
    wanted = query.getall("expand", [])
    return tuple(dict.fromkeys(wanted)) if wanted else None


@dataclass
class Record:
    """What is known of one commit's repo info."""

    fields: dict = field(default_factory=dict)
    default: list | None = None  # the default answer's keys, in its order, once known
    absent: list = field(default_factory=list)  # asked for with `expand=`, not in the answer

    def covers(self, wanted):
        """Whether this record answers `wanted` (a `selection`) without asking upstream."""
        if wanted is None:
            return self.default is not None
        return not self.missing(wanted)

    def missing(self, wanted):
        """The fields of `wanted` that upstream was never asked for."""
        known = set(self.fields) | set(self.absent)
        return [key for key in wanted if key not in known]

    def answer(self, wanted):
        """The answer to `wanted` from what is known (fields never learned are left out)."""
        keys = self.default if wanted is None else [*ALWAYS, *wanted]
        return {key: self.fields[key] for key in dict.fromkeys(keys or []) if key in self.fields}

    def learn(self, answer, wanted):
        """Add an upstream `answer` to `wanted` (None: the default answer)."""
        self.fields.update(answer)
        if wanted is None:
            self.default = list(answer)
        else:
            self.absent = sorted(set(self.absent) | {key for key in wanted if key not in answer})
        return self

    def to_json(self):
        return {"fields": self.fields, "default": self.default, "absent": self.absent}

    @classmethod
    def from_json(cls, data):
        return cls(data.get("fields") or {}, data.get("default"), data.get("absent") or [])
