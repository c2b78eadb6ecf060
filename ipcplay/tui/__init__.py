"""How ipcplay *looks*: the Textual app. It reads snapshots and sends commands;
it never touches a channel, never blocks, never computes telemetry itself."""
