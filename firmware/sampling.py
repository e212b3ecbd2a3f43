"""The sampling side of the device loop: read every sensor of the profile
and commit the values as one journal record, on schedule, whatever the
network does."""

from uonep.errors import JournalFullError


class Sampler:
    """The profile's sensors over the app's Uplink. sensors: [(alias,
    function() -> value or None)], made at boot (startup.sensors); counts,
    on the app, samples taken, committed and refused (journal full, policy
    "refuse")."""

    def __init__(self, app):
        self.app = app
        self.sensors = []
        self.last_status = None

    def counter(self):
        """The samples taken so far (a sensor of kind "counter")."""
        return self.app.samples

    def status_change(self):
        """The app's state word, committed only when it changed."""
        state = self.app.state
        if state == self.last_status:
            return None
        self.last_status = state
        return state

    def sample(self):
        """Read every sensor and commit the values as one journal record."""
        app = self.app
        uplink = app.uplink
        app.samples += 1
        shown = []
        for alias, read in self.sensors:
            try:
                value = read()
                if value is not None:
                    uplink.add_value(alias, value)
                    shown.append("%s=%s" % (alias, value))
            except Exception as failure:
                # One broken sensor must not cost the others' readings.
                app.note_error("sensor %s" % alias, failure)
        try:
            uplink.commit()
        except JournalFullError:
            app.refused += 1
            app.log("journal full (policy refuse): sample %d not stored, %s" % (
                app.samples, app.journal.stats()))
            return
        app.committed += 1
        app.log("sample %d committed: %s" % (app.samples, " ".join(shown)))
