"""Why the team misses goal: rep signals per cause, the money model, findings, what-if."""
