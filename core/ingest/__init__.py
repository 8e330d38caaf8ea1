"""Files in, canonical tables out.

pipeline orchestrates: readers (files into raw sheets) → recognise (which table, which columns) →
loading (cells parsed with cleaning, unusable rows rejected) → duplicates (sheets stacked) →
linking (tables linked, with matching of names to ids; orphans reported); report holds the issue
rows and source summaries of the validation report, template writes it and the empty template.
Around them: quota sheets and rules, currencies, database and Parquet sources, the sandbox.
"""
