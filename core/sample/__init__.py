"""The bundled demo team: generator, planted story, Excel rendering."""
