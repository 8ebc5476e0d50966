"""GraphRAG: an entity/relation graph over a tenant's filings, used as an opt-in retrieval route for
questions that span filings ("compare ...", "which segment ..."). Needs the `graph` extra (networkx).

`finrag.graph.build` makes and persists the graph; `finrag.graph.route` searches it (GraphRetriever,
is_cross_filing, fuse_graph)."""
