"""pytest plugin (entry point pytest11): the One Platform emulator fixture."""
