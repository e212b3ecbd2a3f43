"""The provisioning system's tables in the emulator's database: vendors,
their models, serial numbers (with their activation logs), content and
groups. Store (store.py) inherits these methods; callers hold the store's
lock (store.transaction()) as for every other table.

A vendor is known by its name; its vendor token and its domain client (the
client whose CIK is the vendor CIK) are both optional. Models, content and
groups live in the vendor's namespace: (vendor, model) names a model.
"""

import json

PROVISIONING_SCHEMA = """
-- client: RID of the vendor's domain client (its CIK is the vendor CIK)
CREATE TABLE IF NOT EXISTS vendors (
    name TEXT PRIMARY KEY,
    token TEXT UNIQUE,
    client TEXT
);
-- rid or code: the clone template; template: a seeded model's client spec
CREATE TABLE IF NOT EXISTS models (
    vendor TEXT NOT NULL,
    name TEXT NOT NULL,
    rid TEXT,
    code TEXT,
    options TEXT NOT NULL DEFAULT '[]',
    template TEXT NOT NULL DEFAULT '{}',
    ranges TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (vendor, name)
);
-- rid: the serial number's client once it exists. A seeded device has its
-- client made at activation instead, from `client` (a seed spec) with `cik`,
-- and may be activated while `enabled`. window_ends: an enabled serial
-- number may be activated until then (NULL: no limit).
CREATE TABLE IF NOT EXISTS serials (
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    sn TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '',
    rid TEXT,
    cik TEXT,
    enabled INTEGER NOT NULL DEFAULT 0,
    window_ends INTEGER,
    owner_cik TEXT,
    client TEXT,
    PRIMARY KEY (vendor, model, sn)
);
CREATE INDEX IF NOT EXISTS serials_rid ON serials (rid);
CREATE TABLE IF NOT EXISTS serial_log (
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    sn TEXT NOT NULL,
    ts INTEGER NOT NULL,
    connection TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS content (
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    id TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '',
    protected INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL DEFAULT '',
    blob BLOB NOT NULL DEFAULT x'',
    updated INTEGER NOT NULL,
    PRIMARY KEY (vendor, model, id)
);
CREATE TABLE IF NOT EXISTS groups (
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    id TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (vendor, model, id)
);
CREATE TABLE IF NOT EXISTS group_members (
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    grp TEXT NOT NULL,
    type TEXT NOT NULL,
    member TEXT NOT NULL,
    expire INTEGER NOT NULL DEFAULT 0,
    meta TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (vendor, model, grp, type, member)
);
"""

# The model-scoped tables a model's deletion empties.
MODEL_TABLES = ("serials", "serial_log", "content", "groups", "group_members")


class ProvisioningTables:
    """Vendors, models, serial numbers, content and groups (mixed into Store)."""

    def _migrate_devices(self):
        """A database from before the provisioning API kept seeded devices in
        `devices`: move them into `serials` (an activated one gets the RID of
        the client its CIK names) and drop the old table."""
        if self._one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'devices'"):
            for row in self._all("SELECT * FROM devices"):
                client = self.client_by_cik(row["cik"]) if row["activated"] else None
                self._run("INSERT OR IGNORE INTO serials (vendor, model, sn, rid, cik, enabled,"
                          " owner_cik, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (row["vendor"], row["model"], row["sn"],
                           client["rid"] if client else None, row["cik"], row["enabled"],
                           row["owner_cik"], row["client"]))
            self._run("DROP TABLE devices")

    # -- vendors ------------------------------------------------------------------

    def add_vendor(self, name, token=None, client=None):
        """Register a vendor unless the name exists; True when added."""
        return self._run("INSERT OR IGNORE INTO vendors (name, token, client) VALUES (?, ?, ?)",
                         (name, token, client)).rowcount == 1

    def vendor(self, name):
        return _row(self._one("SELECT * FROM vendors WHERE name = ?", (name,)))

    def vendor_by_token(self, token):
        return _row(self._one("SELECT * FROM vendors WHERE token = ?", (token,)))

    def vendor_by_client(self, rid):
        return _row(self._one("SELECT * FROM vendors WHERE client = ?", (rid,)))

    def set_vendor_client(self, name, rid):
        self._run("UPDATE vendors SET client = ? WHERE name = ?", (rid, name))

    # -- models ---------------------------------------------------------------------

    def add_model(self, vendor, name, rid=None, code=None, options=(), template=None):
        """Create a model unless it exists; True when created."""
        return self._run("INSERT OR IGNORE INTO models (vendor, name, rid, code, options,"
                         " template) VALUES (?, ?, ?, ?, ?, ?)",
                         (vendor, name, rid, code, json.dumps(list(options)),
                          json.dumps(template or {}))).rowcount == 1

    def model(self, vendor, name):
        found = _row(self._one("SELECT * FROM models WHERE vendor = ? AND name = ?",
                               (vendor, name)))
        if found is not None:
            for key in ("options", "template", "ranges"):
                found[key] = json.loads(found[key])
        return found

    def models_of(self, vendor):
        rows = self._all("SELECT name FROM models WHERE vendor = ? ORDER BY rowid", (vendor,))
        return [row["name"] for row in rows]

    def update_model(self, vendor, name, template=None, options=None, ranges=None):
        """Set a model's clone template ((rid, code or None)), options or ranges."""
        if template is not None:
            self._run("UPDATE models SET rid = ?, code = ? WHERE vendor = ? AND name = ?",
                      tuple(template) + (vendor, name))
        for column, value in (("options", options), ("ranges", ranges)):
            if value is not None:
                self._run("UPDATE models SET %s = ? WHERE vendor = ? AND name = ?" % column,
                          (json.dumps(value), vendor, name))

    def remove_model(self, vendor, name):
        """Delete a model with its serial numbers, logs, content and groups
        (the clients of its serial numbers stay where they are)."""
        for table in MODEL_TABLES:
            self._run("DELETE FROM %s WHERE vendor = ? AND model = ?" % table, (vendor, name))
        self._run("DELETE FROM models WHERE vendor = ? AND name = ?", (vendor, name))

    # -- serial numbers ---------------------------------------------------------------

    def add_serial(self, vendor, model, sn, extra="", cik=None, enabled=False, owner_cik=None,
                   client=None):
        """Add a serial number unless it exists; True when added. `client`
        (a seed spec) and `cik` make it a seeded device."""
        spec = None if client is None else json.dumps(client)
        return self._run("INSERT OR IGNORE INTO serials (vendor, model, sn, extra, cik, enabled,"
                         " owner_cik, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (vendor, model, sn, extra, cik, int(bool(enabled)), owner_cik,
                          spec)).rowcount == 1

    def serial(self, vendor, model, sn):
        found = _row(self._one("SELECT * FROM serials WHERE vendor = ? AND model = ? AND sn = ?",
                               (vendor, model, sn)))
        if found is not None and found["client"] is not None:
            found["client"] = json.loads(found["client"])
        return found

    def serials_of(self, vendor, model, offset=0, limit=-1):
        """The serial numbers of a model in the order they were added."""
        rows = self._all("SELECT sn FROM serials WHERE vendor = ? AND model = ?"
                         " ORDER BY rowid LIMIT ? OFFSET ?", (vendor, model, limit, offset))
        return [self.serial(vendor, model, row["sn"]) for row in rows]

    def serials_of_client(self, rid):
        """The serial numbers whose client is `rid`."""
        rows = self._all("SELECT vendor, model, sn FROM serials WHERE rid = ?", (rid,))
        return [self.serial(row["vendor"], row["model"], row["sn"]) for row in rows]

    def update_serial(self, vendor, model, sn, **fields):
        """Set columns of a serial number (rid, enabled, window_ends, ...)."""
        for column, value in fields.items():
            self._run("UPDATE serials SET %s = ? WHERE vendor = ? AND model = ? AND sn = ?"
                      % column, (value, vendor, model, sn))

    def remove_serial(self, vendor, model, sn):
        """Delete a serial number and its log; True when it existed."""
        self._run("DELETE FROM serial_log WHERE vendor = ? AND model = ? AND sn = ?",
                  (vendor, model, sn))
        self._run("DELETE FROM group_members WHERE vendor = ? AND model = ? AND type = 'sn'"
                  " AND member = ?", (vendor, model, sn))
        return self._run("DELETE FROM serials WHERE vendor = ? AND model = ? AND sn = ?",
                         (vendor, model, sn)).rowcount == 1

    def add_log(self, vendor, model, sn, now, connection, entry):
        self._run("INSERT INTO serial_log (vendor, model, sn, ts, connection, entry)"
                  " VALUES (?, ?, ?, ?, ?, ?)", (vendor, model, sn, now, connection, entry))

    def log_of(self, vendor, model, sn):
        """[(timestamp, connection, entry), ...] oldest first."""
        rows = self._all("SELECT ts, connection, entry FROM serial_log WHERE vendor = ? AND"
                         " model = ? AND sn = ? ORDER BY rowid", (vendor, model, sn))
        return [(row["ts"], row["connection"], row["entry"]) for row in rows]

    # -- content ----------------------------------------------------------------------

    def add_content(self, vendor, model, content_id, meta, protected, now):
        """Create a content entry (no blob yet) unless it exists; True when created."""
        return self._run("INSERT OR IGNORE INTO content (vendor, model, id, meta, protected,"
                         " updated) VALUES (?, ?, ?, ?, ?, ?)",
                         (vendor, model, content_id, meta, int(bool(protected)),
                          now)).rowcount == 1

    def content(self, vendor, model, content_id, with_blob=True):
        """{"id", "meta", "protected", "type", "size", "updated", "blob"} or
        None; without the blob (a listing's checks) unless with_blob."""
        columns = "id, meta, protected, type, LENGTH(blob) AS size, updated"
        if with_blob:
            columns += ", blob"
        found = _row(self._one("SELECT %s FROM content WHERE vendor = ? AND model = ? AND id = ?"
                               % columns, (vendor, model, content_id)))
        if found is not None and with_blob:
            found["blob"] = bytes(found["blob"])
        return found

    def contents_of(self, vendor, model):
        rows = self._all("SELECT id FROM content WHERE vendor = ? AND model = ? ORDER BY rowid",
                         (vendor, model))
        return [row["id"] for row in rows]

    def set_blob(self, vendor, model, content_id, blob, content_type, now):
        self._run("UPDATE content SET blob = ?, type = ?, updated = ? WHERE vendor = ? AND"
                  " model = ? AND id = ?", (blob, content_type, now, vendor, model, content_id))

    def remove_content(self, vendor, model, content_id):
        """Delete a content entry and its group memberships; True when it existed."""
        self._run("DELETE FROM group_members WHERE vendor = ? AND model = ? AND type = 'content'"
                  " AND member = ?", (vendor, model, content_id))
        return self._run("DELETE FROM content WHERE vendor = ? AND model = ? AND id = ?",
                         (vendor, model, content_id)).rowcount == 1

    # -- groups -------------------------------------------------------------------------

    def add_group(self, vendor, model, group_id, meta):
        return self._run("INSERT OR IGNORE INTO groups (vendor, model, id, meta)"
                         " VALUES (?, ?, ?, ?)", (vendor, model, group_id, meta)).rowcount == 1

    def group(self, vendor, model, group_id):
        return _row(self._one("SELECT * FROM groups WHERE vendor = ? AND model = ? AND id = ?",
                              (vendor, model, group_id)))

    def groups_of(self, vendor, model):
        """[(id, meta), ...] in the order they were made."""
        rows = self._all("SELECT id, meta FROM groups WHERE vendor = ? AND model = ?"
                         " ORDER BY rowid", (vendor, model))
        return [(row["id"], row["meta"]) for row in rows]

    def remove_group(self, vendor, model, group_id):
        """Delete a group, its members, and its own memberships in other groups."""
        self._run("DELETE FROM group_members WHERE vendor = ? AND model = ? AND (grp = ? OR"
                  " (type = 'group' AND member = ?))", (vendor, model, group_id, group_id))
        return self._run("DELETE FROM groups WHERE vendor = ? AND model = ? AND id = ?",
                         (vendor, model, group_id)).rowcount == 1

    def put_member(self, vendor, model, group_id, kind, member, expire, meta):
        """Add a member to a group, or update its expire and meta."""
        self._run("INSERT OR REPLACE INTO group_members (vendor, model, grp, type, member,"
                  " expire, meta) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (vendor, model, group_id, kind, member, expire, meta))

    def members(self, vendor, model, group_id):
        """[(type, member, expire, meta), ...] in the order they were added."""
        rows = self._all("SELECT type, member, expire, meta FROM group_members WHERE"
                         " vendor = ? AND model = ? AND grp = ? ORDER BY rowid",
                         (vendor, model, group_id))
        return [(row["type"], row["member"], row["expire"], row["meta"]) for row in rows]

    def remove_member(self, vendor, model, group_id, kind, member):
        self._run("DELETE FROM group_members WHERE vendor = ? AND model = ? AND grp = ? AND"
                  " type = ? AND member = ?", (vendor, model, group_id, kind, member))

    def groups_with(self, vendor, model, kind, member, now=None):
        """The groups `member` (of type `kind`) belongs to, oldest membership
        first; with `now`, only memberships that have not expired (expire 0
        never does)."""
        rows = self._all("SELECT grp, expire FROM group_members WHERE vendor = ? AND model = ?"
                         " AND type = ? AND member = ? ORDER BY rowid",
                         (vendor, model, kind, member))
        return [row["grp"] for row in rows
                if now is None or not row["expire"] or row["expire"] > now]


def _row(row):
    return None if row is None else dict(row)
