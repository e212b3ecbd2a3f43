"""All emulator state in one SQLite database (a file or ":memory:"); the
provisioning tables are declared in provisioning_store.py.

One connection is shared by every server thread and guarded by one
re-entrant lock; `condition` is built on that lock so a long-polling `wait`
can sleep without holding it and wake the moment a point is written. Every
transaction commits before the lock is released, so a file database keeps
its data across restarts.
"""

import contextlib
import json
import secrets
import sqlite3
import threading

from .arrivals import ArrivalLog
from .provisioning_store import PROVISIONING_SCHEMA, ProvisioningTables

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    rid TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    owner TEXT,
    cik TEXT UNIQUE,
    description TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    -- a client's CIK: activated, notactivated (a clone, a revoked CIK) or expired
    status TEXT NOT NULL DEFAULT 'activated'
);
CREATE INDEX IF NOT EXISTS resources_owner ON resources (owner);
CREATE TABLE IF NOT EXISTS aliases (
    owner TEXT NOT NULL,
    alias TEXT NOT NULL,
    rid TEXT NOT NULL,
    PRIMARY KEY (owner, alias)
);
CREATE INDEX IF NOT EXISTS aliases_rid ON aliases (rid);
-- seq only grows (AUTOINCREMENT never reuses), so `wait` can tell a point
-- written after it started even when it replaced one with the same timestamp.
CREATE TABLE IF NOT EXISTS points (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rid TEXT NOT NULL,
    ts INTEGER NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (rid, ts)
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    grantor TEXT NOT NULL,
    grants TEXT NOT NULL,
    expires INTEGER NOT NULL
);
-- activator: the client that activated the code (NULL until then)
CREATE TABLE IF NOT EXISTS shares (
    code TEXT PRIMARY KEY,
    rid TEXT NOT NULL,
    owner TEXT NOT NULL,
    activator TEXT,
    meta TEXT NOT NULL DEFAULT ''
);
-- a resource's "subscribe": every new point of source is copied into subscriber
CREATE TABLE IF NOT EXISTS subscriptions (
    subscriber TEXT PRIMARY KEY,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_source ON subscriptions (source);
"""

# Columns added since the first schema: a database file written before them
# gets them on open (ALTER TABLE ... ADD COLUMN keeps its rows).
ADDED_COLUMNS = (
    ("resources", "status", "TEXT NOT NULL DEFAULT 'activated'"),
    ("shares", "activator", "TEXT"),
    ("shares", "meta", "TEXT NOT NULL DEFAULT ''"),
)


def new_key():
    """A fresh CIK, RID, token or share code: 40 lowercase hex characters."""
    return secrets.token_hex(20)


class Store(ProvisioningTables):
    """Typed access to the database; callers hold `lock` (via transaction())
    around anything that must be consistent. The provisioning tables'
    methods (vendors, models, serial numbers, content, groups) come from
    ProvisioningTables."""

    def __init__(self, path=":memory:"):
        self.path = str(path)
        self.lock = threading.RLock()
        self.condition = threading.Condition(self.lock)
        self.connection = sqlite3.connect(self.path, check_same_thread=False)
        self.connection.row_factory = sqlite3.Row
        with self.lock:
            if self.path != ":memory:":
                self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.executescript(SCHEMA + PROVISIONING_SCHEMA)
            self._add_missing_columns()
            self._migrate_devices()
            self.connection.commit()
        # which points each write request stored, and when (arrivals.py)
        self.arrivals = ArrivalLog(self)

    @contextlib.contextmanager
    def transaction(self):
        """Hold the lock; commit on success, roll back on an exception."""
        with self.lock:
            try:
                yield self
            except BaseException:
                self.connection.rollback()
                raise
            self.connection.commit()

    def close(self):
        with self.lock:
            self.connection.close()

    def _add_missing_columns(self):
        for table, column, declaration in ADDED_COLUMNS:
            names = {row["name"] for row in self._all("PRAGMA table_info(%s)" % table)}
            if column not in names:
                self._run("ALTER TABLE %s ADD COLUMN %s %s" % (table, column, declaration))

    def _all(self, sql, parameters=()):
        return self.connection.execute(sql, parameters).fetchall()

    def _one(self, sql, parameters=()):
        return self.connection.execute(sql, parameters).fetchone()

    def _run(self, sql, parameters=()):
        return self.connection.execute(sql, parameters)

    # -- resources ------------------------------------------------------------

    def add_resource(self, kind, owner, description, now, cik=None, rid=None,
                     status="activated"):
        """Create a resource owned by `owner` (None: a top-level client); returns its RID."""
        rid = rid or new_key()
        self._run("INSERT INTO resources (rid, type, owner, cik, description, created, modified,"
                  " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (rid, kind, owner, cik, json.dumps(description), now, now, status))
        return rid

    def resource(self, rid):
        """The resource as a dict (rid, type, owner, cik, description, tags, created,
        modified, status), or None."""
        row = self._one("SELECT * FROM resources WHERE rid = ?", (rid,))
        return _resource(row)

    def client_by_cik(self, cik):
        row = self._one("SELECT * FROM resources WHERE cik = ? AND type = 'client'", (cik,))
        return _resource(row)

    def update_resource(self, rid, now, description=None, tags=None, owner=None):
        if description is not None:
            self._run("UPDATE resources SET description = ?, modified = ? WHERE rid = ?",
                      (json.dumps(description), now, rid))
        if tags is not None:
            self._run("UPDATE resources SET tags = ?, modified = ? WHERE rid = ?",
                      (json.dumps(tags), now, rid))
        if owner is not None:
            self._run("UPDATE resources SET owner = ?, modified = ? WHERE rid = ?",
                      (owner, now, rid))

    def set_client_key(self, rid, cik=None, status=None):
        """Give a client a new CIK and/or CIK status."""
        if cik is not None:
            self._run("UPDATE resources SET cik = ? WHERE rid = ?", (cik, rid))
        if status is not None:
            self._run("UPDATE resources SET status = ? WHERE rid = ?", (status, rid))

    def resources_of_type(self, kind):
        """Every resource of a type, oldest first (for listing's "public")."""
        rows = self._all("SELECT * FROM resources WHERE type = ? ORDER BY rowid", (kind,))
        return [_resource(row) for row in rows]

    def children(self, owner, kind=None):
        """RIDs owned directly by `owner`, oldest first."""
        if kind is None:
            rows = self._all("SELECT rid FROM resources WHERE owner = ? ORDER BY rowid", (owner,))
        else:
            rows = self._all("SELECT rid FROM resources WHERE owner = ? AND type = ?"
                             " ORDER BY rowid", (owner, kind))
        return [row["rid"] for row in rows]

    def top_clients(self):
        rows = self._all("SELECT rid FROM resources WHERE owner IS NULL ORDER BY rowid")
        return [row["rid"] for row in rows]

    def is_within(self, rid, ancestor):
        """True when `rid` is `ancestor` or one of its descendants."""
        current = rid
        while current is not None:
            if current == ancestor:
                return True
            row = self._one("SELECT owner FROM resources WHERE rid = ?", (current,))
            current = row["owner"] if row else None
        return False

    def subtree(self, rid):
        """`rid` and all its descendants, parents before children."""
        found = [rid]
        index = 0
        while index < len(found):
            found.extend(self.children(found[index]))
            index += 1
        return found

    def drop(self, rid):
        """Delete a resource, everything under it, their points, aliases,
        shares, subscriptions and the tokens its clients granted; shares the
        dropped clients had activated are free again."""
        for member in self.subtree(rid):
            self._run("DELETE FROM points WHERE rid = ?", (member,))
            self._run("DELETE FROM aliases WHERE rid = ? OR owner = ?", (member, member))
            self._run("DELETE FROM shares WHERE rid = ?", (member,))
            self._run("UPDATE shares SET activator = NULL WHERE activator = ?", (member,))
            self._run("DELETE FROM subscriptions WHERE subscriber = ? OR source = ?",
                      (member, member))
            self._run("DELETE FROM tokens WHERE grantor = ?", (member,))
            self._run("DELETE FROM resources WHERE rid = ?", (member,))
            self.arrivals.forget(member)

    # -- aliases --------------------------------------------------------------

    def alias_target(self, owner, alias):
        row = self._one("SELECT rid FROM aliases WHERE owner = ? AND alias = ?", (owner, alias))
        return row["rid"] if row else None

    def add_alias(self, owner, alias, rid):
        self._run("INSERT INTO aliases (owner, alias, rid) VALUES (?, ?, ?)", (owner, alias, rid))

    def remove_alias(self, owner, alias):
        return self._run("DELETE FROM aliases WHERE owner = ? AND alias = ?",
                         (owner, alias)).rowcount

    def aliases_of(self, rid):
        """The names a resource has in its owner's namespace."""
        rows = self._all("SELECT alias FROM aliases WHERE rid = ? ORDER BY alias", (rid,))
        return [row["alias"] for row in rows]

    def aliases_in(self, owner):
        """{rid: [alias, ...]} for every alias `owner` has mapped."""
        mapped = {}
        for row in self._all("SELECT alias, rid FROM aliases WHERE owner = ? ORDER BY alias",
                             (owner,)):
            mapped.setdefault(row["rid"], []).append(row["alias"])
        return mapped

    def move_aliases(self, rid, old_owner, new_owner, keep):
        """After a move: carry the resource's names to its new owner (unless a
        name is taken there) or forget them."""
        for alias in self.aliases_of(rid):
            self.remove_alias(old_owner, alias)
            if keep and self.alias_target(new_owner, alias) is None:
                self.add_alias(new_owner, alias, rid)

    # -- points ---------------------------------------------------------------

    def put_point(self, rid, timestamp, value):
        """Store one point; a point already at that timestamp is replaced
        (One Platform keeps one value per second per dataport)."""
        self._run("INSERT OR REPLACE INTO points (rid, ts, value) VALUES (?, ?, ?)",
                  (rid, timestamp, json.dumps(value)))
        self.condition.notify_all()

    def points(self, rid, starttime=None, endtime=None):
        """[[ts, value], ...] ascending, bounds inclusive."""
        low = -(1 << 63) if starttime is None else starttime
        high = (1 << 63) - 1 if endtime is None else endtime
        rows = self._all("SELECT ts, value FROM points WHERE rid = ? AND ts >= ? AND ts <= ?"
                         " ORDER BY ts", (rid, low, high))
        return [[row["ts"], json.loads(row["value"])] for row in rows]

    def values_at(self, rid, timestamps):
        """{ts: value} of the points stored at any of `timestamps`."""
        found = {}
        unique = sorted(set(timestamps))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            for row in self._all("SELECT ts, value FROM points WHERE rid = ? AND ts IN (%s)"
                                 % ",".join("?" * len(chunk)), (rid, *chunk)):
                found[row["ts"]] = json.loads(row["value"])
        return found

    def latest_points(self, rid, count):
        """The newest `count` points, ascending."""
        rows = self._all("SELECT ts, value FROM points WHERE rid = ? ORDER BY ts DESC LIMIT ?",
                         (rid, count))
        return [[row["ts"], json.loads(row["value"])] for row in reversed(rows)]

    def point_stats(self, rid):
        """(count, first ts, last ts, bytes of stored values)."""
        row = self._one("SELECT COUNT(*) AS n, MIN(ts) AS first, MAX(ts) AS last,"
                        " COALESCE(SUM(LENGTH(value)), 0) AS size FROM points WHERE rid = ?",
                        (rid,))
        return row["n"], row["first"], row["last"], row["size"]

    def delete_points(self, rid, newerthan=None, olderthan=None):
        """Delete points strictly between the bounds (both exclusive, both optional)."""
        low = -(1 << 63) if newerthan is None else newerthan
        high = (1 << 63) - 1 if olderthan is None else olderthan
        return self._run("DELETE FROM points WHERE rid = ? AND ts > ? AND ts < ?",
                         (rid, low, high)).rowcount

    def latest_point(self, rid):
        """The newest point [ts, value], or None."""
        points = self.latest_points(rid, 1)
        return points[0] if points else None

    def copy_points(self, source, target):
        """Copy every point of `source` into `target` (a clone's history)."""
        self._run("INSERT OR REPLACE INTO points (rid, ts, value)"
                  " SELECT ?, ts, value FROM points WHERE rid = ? ORDER BY ts", (target, source))

    def keep_newest(self, rid, count):
        """Retention by count: delete all but the `count` newest points."""
        self._run("DELETE FROM points WHERE rid = ? AND ts NOT IN"
                  " (SELECT ts FROM points WHERE rid = ? ORDER BY ts DESC LIMIT ?)",
                  (rid, rid, count))

    def last_seq(self, rid):
        row = self._one("SELECT MAX(seq) AS seq FROM points WHERE rid = ?", (rid,))
        return row["seq"] or 0

    def newest_point_after(self, rid, since=None, seq=None):
        """The newest point with ts > since, or written after `seq`; None if none."""
        if since is not None:
            row = self._one("SELECT ts, value FROM points WHERE rid = ? AND ts > ?"
                            " ORDER BY ts DESC LIMIT 1", (rid, since))
        else:
            row = self._one("SELECT ts, value FROM points WHERE rid = ? AND seq > ?"
                            " ORDER BY seq DESC LIMIT 1", (rid, seq or 0))
        return [row["ts"], json.loads(row["value"])] if row else None

    # -- devices (the page's view of serial numbers) ----------------------------

    def devices(self):
        """Every serial number as the page shows it: the serial's fields,
        `activated` (its client exists and took its CIK), `enabled` (it may
        still be activated) and `cik` (its client's, else the seeded one)."""
        rows = self._all("SELECT vendor, model, sn FROM serials ORDER BY vendor, model, sn")
        found = []
        for row in rows:
            serial = self.serial(row["vendor"], row["model"], row["sn"])
            client = self.resource(serial["rid"]) if serial["rid"] else None
            status = client["status"] if client is not None else None
            found.append(dict(serial, activated=status == "activated",
                              enabled=status == "notactivated" or (
                                  client is None and bool(serial["enabled"])),
                              cik=client["cik"] if client is not None else serial["cik"]))
        return found

    # -- tokens, shares and subscriptions --------------------------------------

    def add_token(self, grantor, grants, expires):
        token = new_key()
        self._run("INSERT INTO tokens (token, grantor, grants, expires) VALUES (?, ?, ?, ?)",
                  (token, grantor, json.dumps(grants), expires))
        return token

    def token(self, token):
        row = self._one("SELECT * FROM tokens WHERE token = ?", (token,))
        if row is None:
            return None
        return {"grantor": row["grantor"], "grants": json.loads(row["grants"]),
                "expires": row["expires"]}

    def tokens_of(self, grantor, now):
        """The tokens a client granted that have not expired, oldest first."""
        rows = self._all("SELECT token FROM tokens WHERE grantor = ? AND expires > ?"
                         " ORDER BY rowid", (grantor, now))
        return [row["token"] for row in rows]

    def add_share(self, rid, owner, meta=""):
        code = new_key()
        self._run("INSERT INTO shares (code, rid, owner, meta) VALUES (?, ?, ?, ?)",
                  (code, rid, owner, meta))
        return code

    def share(self, code):
        """{"code", "rid", "owner", "activator", "meta"} or None."""
        row = self._one("SELECT code, rid, owner, activator, meta FROM shares WHERE code = ?",
                        (code,))
        return dict(row) if row else None

    def shares_of(self, rid):
        rows = self._all("SELECT code, rid, owner, activator, meta FROM shares WHERE rid = ?"
                         " ORDER BY rowid", (rid,))
        return [dict(row) for row in rows]

    def shares_activated_by(self, client):
        """The shares `client` activated, oldest first."""
        rows = self._all("SELECT code, rid, owner, activator, meta FROM shares"
                         " WHERE activator = ? ORDER BY rowid", (client,))
        return [dict(row) for row in rows]

    def set_share(self, code, activator=None, meta=None, clear=False):
        """Set a share's activator (clear=True: none) and/or meta."""
        if activator is not None or clear:
            self._run("UPDATE shares SET activator = ? WHERE code = ?", (activator, code))
        if meta is not None:
            self._run("UPDATE shares SET meta = ? WHERE code = ?", (meta, code))

    def remove_share(self, code):
        self._run("DELETE FROM shares WHERE code = ?", (code,))

    def subscribe(self, subscriber, source):
        """Copy new points of `source` into `subscriber` from now on (None: stop)."""
        self._run("DELETE FROM subscriptions WHERE subscriber = ?", (subscriber,))
        if source is not None:
            self._run("INSERT INTO subscriptions (subscriber, source) VALUES (?, ?)",
                      (subscriber, source))

    def subscribers(self, source):
        """The RIDs subscribed to `source`, oldest subscription first."""
        rows = self._all("SELECT subscriber FROM subscriptions WHERE source = ? ORDER BY rowid",
                         (source,))
        return [row["subscriber"] for row in rows]


def _resource(row):
    if row is None:
        return None
    found = dict(row)
    found["description"] = json.loads(found["description"])
    found["tags"] = json.loads(found["tags"])
    return found
