"""The cross-encoder reranker as an HTTP service (`finrag rerank-server`), for a GPU box shared by
API replicas; `finrag.retrieve.rerank.RemoteReranker` is its client."""

from finrag.rerank_server.app import create_app, run_rerank_server

__all__ = ["create_app", "run_rerank_server"]
