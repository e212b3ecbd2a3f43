"""The sampling side of the device loop: read every sensor of the profile
and commit the values as one journal record, on schedule, whatever the
network does."""

from uonep.errors import JournalFullError


class Sampler:
    """The profile's sensors over the app's Uplink. sensors: [(alias,
    function() -> value or None)]; counts, on the app, samples taken,
    committed and refused (journal full, policy "refuse")."""

    def __init__(self, app):
        self.app = app
        self.sensors = []
        self.last_status = None

    def build(self):
        """The sensors of the profile; a broken one is logged and left out."""
        app = self.app
        self.sensors = []
        for spec in app.profile["sensors"]:
            if not spec.get("enabled", True):
                continue
            try:
                self.sensors.append((spec["alias"], self.sensor(spec)))
            except Exception as failure:
                app.note_error("sensor %s (%s)" % (spec["alias"], spec["kind"]), failure)

    def sensor(self, spec):
        kind = spec["kind"]
        if kind == "counter":
            return lambda: self.app.samples
        if kind == "uptime":
            return lambda: self.app.uptime()
        if kind == "status":
            return self.status_change
        return self.app.board.sensor(spec)

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
