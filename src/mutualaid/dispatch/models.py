from django.db import models
from django.utils import timezone


class VolunteerChange(models.Model):
    """A note that something matching knows about a member changed: their profile, their
    memberships or how many tasks they hold. Written in the same transaction as the change, so
    it becomes visible exactly when the change does; each process's volunteer indexes read the
    notes made since they last looked and reload those members (`dispatch.volunteers`).

    `member_id` is a plain number, not a foreign key, so a note outlives its member and can
    still take them out of an index. `group_id` is set only when the members left that group:
    they are no longer its members, yet its index must hear of them. Notes are purged after a
    few hours (`tasks.volunteer_changes_purge_task`).
    """

    member_id = models.BigIntegerField()
    group_id = models.BigIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["changed_at"], name="volunteer_change_changed_at"),
            models.Index(fields=["group_id", "changed_at"], name="volunteer_change_group"),
        ]

    def __str__(self) -> str:
        return f"member {self.member_id} changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"
