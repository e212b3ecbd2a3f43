"""Remote settings: a JSON object in a dataport, read after a push, checked
like the board profile, applied to what may change while the app runs, and
answered in a status dataport.

    job = Settings(profile["settings"])   # "alias": the settings dataport
    job.after_push(app)                   # App.push calls it after every push

The settings ({"sample_interval": 30, "push": {"every_samples": 5},
"sensors": {"temp": false}}; "push.every_samples": 5 also works) are taken
key by key: each key that passes the profile's check is applied, each one
that does not (or that cannot change at run time) is refused with the
check's reason, and the rest still apply. The status dataport gets
{"at": the settings' timestamp, "applied": {...}, "refused": {key: why}}.
Sampling never waits on any of it: a failure is logged and tried again at
the next read. Settings live in RAM: a reboot runs the board profile until
the first read after it applies them again.
"""

import json
import sys


RUNTIME = ("sample_interval", "push.every_samples", "push.max_interval",
           "push.backlog_bytes", "push.max_points")


def apply(profile, settings):
    """Apply the settings (a JSON text or an object) to the profile in
    place: {"applied": {key: value}, "refused": {key: reason}}."""
    applied, refused = {}, {}
    try:
        document = json.loads(settings) if isinstance(settings, str) else settings
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return {"applied": applied, "refused": {"settings": "must be a JSON object {...}"}}
    import profilecheck
    try:
        for key, value in _flat(document):
            if key == "sensors":
                _sensors(profile, value, applied, refused)
            elif key not in RUNTIME:
                refused[key] = "cannot be changed remotely"
            else:
                trial = profilecheck.merge(profile, {})
                profilecheck.set_path(trial, key, value)
                problem = profilecheck.problem(trial)
                if problem is None:
                    profilecheck.set_path(profile, key, value)
                    applied[key] = value
                else:
                    refused[key] = problem
    finally:
        # As at boot: the checks' code does not stay in the heap.
        sys.modules.pop("profilecheck", None)
    return {"applied": applied, "refused": refused}


def _flat(document):
    """[(dotted key, value)]: a section's object becomes section.key pairs."""
    pairs = []
    for key, value in document.items():
        if isinstance(value, dict) and key != "sensors":
            pairs += [(key + "." + inner, item) for inner, item in value.items()]
        else:
            pairs.append((key, value))
    return pairs


def _sensors(profile, flags, applied, refused):
    if not isinstance(flags, dict):
        refused["sensors"] = "must be an object {alias: true or false}"
        return
    specs = {}
    for spec in profile["sensors"]:
        specs[spec["alias"]] = spec
    for alias, enabled in flags.items():
        key = "sensors." + alias
        if alias not in specs:
            refused[key] = "no such sensor in the board profile"
        elif not isinstance(enabled, bool):
            refused[key] = "must be true or false"
        else:
            specs[alias]["enabled"] = enabled
            applied[key] = enabled


class Settings:
    """The app's remote settings job (profile section "settings")."""

    def __init__(self, section):
        self.alias = section["alias"]
        self.status = section["status"]
        self.every = section["every_pushes"]
        self.pushes = 0
        self.seen = None

    def after_push(self, app):
        """Every `every` pushes: read the settings, apply them when they
        are new, report in the status dataport."""
        self.pushes += 1
        if (self.pushes - 1) % self.every:
            return
        try:
            found = app.client.read(self.alias)
            if not found or found[0][0] == self.seen:
                return
            stamp, text = found[0]
            report = apply(app.profile, text)
            if [key for key in report["applied"] if key.startswith("sensors.")]:
                # The sensors are made by the boot's code (startup.sensors).
                from appconfig import once
                app.sampler.sensors = once("startup", "sensors", app)
            report["at"] = stamp
            app.client.write(self.status, json.dumps(report))
            # Seen only once reported: a failed report is tried again.
            self.seen = stamp
            app.log("settings: applied %s, refused %s" % (
                ", ".join(sorted(report["applied"])) or "nothing",
                ", ".join(sorted(report["refused"])) or "nothing"))
        except Exception as failure:
            app.log("settings: not read (%s: %s)" % (type(failure).__name__, failure))
