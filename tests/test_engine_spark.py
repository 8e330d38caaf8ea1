"""The engine's one definition of the per-rep × month parts (core.engine.parts) run on PySpark in
local mode gives exactly DuckDB's numbers. Spark is installed by .ci/run (requirements-spark.txt)
and needs Java; without either the test is skipped with the reason. Spark starts quietly, with its
scratch and warehouse folders in a temporary folder removed after."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ibis")
pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -r requirements-spark.txt)")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed: Spark needs Java 17 or later", allow_module_level=True)

from core.engine.parts import dataset_month_parts, load_tables, month_parts  # noqa: E402
from tests.test_engine_parts import hand_team  # noqa: E402

pytestmark = pytest.mark.slow

_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %p %c: %m%n
"""


@pytest.fixture(scope="module")
def spark_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="goalgap-spark-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def spark(spark_folder: Path) -> Iterator[object]:
    """A local Spark (one core, no web UI, no progress bar, errors only), its scratch space,
    warehouse and Derby metastore inside `spark_folder`; UTC everywhere, so a date is the same
    day on both engines; Arrow to move pandas frames in (a missing value stays null)."""
    from pyspark.sql import SparkSession

    (spark_folder / "log4j2.properties").write_text(_LOG4J)
    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable          # Spark's Python workers: this interpreter
    java = (f"-Dlog4j2.configurationFile=file:{spark_folder / 'log4j2.properties'} "
            f"-Dderby.system.home={spark_folder} -Duser.timezone=UTC")
    session = (SparkSession.builder.master("local[1]").appName("goalgap-engine-test")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.local.dir", str(spark_folder / "scratch"))
               .config("spark.sql.warehouse.dir", str(spark_folder / "warehouse"))
               .config("spark.driver.extraJavaOptions", java)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .getOrCreate())
    try:
        yield session
    finally:
        session.stop()
        if before is None:
            os.environ.pop("PYSPARK_PYTHON", None)
        else:
            os.environ["PYSPARK_PYTHON"] = before


def test_spark_gives_duckdbs_parts(spark, spark_folder):
    import ibis

    ds = hand_team()
    on_spark = month_parts(load_tables(ibis.pyspark.connect(spark), ds))
    on_duckdb = dataset_month_parts(ds)
    assert len(on_duckdb) == 14 and on_duckdb["revenue"].sum() == 760.0     # hand_team: 14 rep-months
    pd.testing.assert_frame_equal(on_spark.sort_index(axis=1), on_duckdb.sort_index(axis=1))


def test_spark_gives_duckdbs_parts_on_the_sample(spark, bundled_sample):
    import ibis

    on_spark = month_parts(load_tables(ibis.pyspark.connect(spark), bundled_sample))
    on_duckdb = dataset_month_parts(bundled_sample)
    assert len(on_duckdb) > 1000
    pd.testing.assert_frame_equal(on_spark.sort_index(axis=1), on_duckdb.sort_index(axis=1), rtol=1e-9)
