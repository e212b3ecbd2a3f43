"""A local One Platform: JSON-RPC, provisioning and /timestamp over HTTP, with SQLite state."""
