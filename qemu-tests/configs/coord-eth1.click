// Uses eth1, which only red owns in coord-system.toml: refused for blue.
FromDevice(eth1) -> c :: Counter -> Discard;
