"""Finance knowledge, the bottom layer of finrag: it imports only `finrag.records` and the standard library.

- `facts`: what a question asks (company, years, period, form, metric, formula, judgement), read once per request;
- `figures` / `scales`: figures in text and on pages, stated scales; `statements`: statement pages and rows;
- `metrics` / `plan`: line items and metrics (tables in `data/*.toml`) and what a question asks to compute;
- `calculator`: the safe calculator every calculated figure goes through; `words`: the one tokenizer and stop list;
- `text`: citation labels and markers."""
