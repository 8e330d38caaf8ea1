"""Territory balance, offline geocoding and state outlines, realignment."""
