output "filings_bucket" {
  description = "Updater source: s3://<this>/inbox"
  value       = aws_s3_bucket.filings.bucket
}

output "database_url" {
  description = "FINRAG_DATABASE_URL for the finrag-secrets Secret."
  value       = "postgresql+psycopg://finrag:${random_password.db.result}@${aws_db_instance.registry.endpoint}/finrag"
  sensitive   = true
}

output "redis_url" {
  description = "FINRAG_SERVE_REDIS_URL for the finrag-secrets Secret (TLS)."
  value       = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379/0"
  sensitive   = true
}

output "app_role_arn" {
  description = "Annotate the finrag ServiceAccount with this role (eks.amazonaws.com/role-arn)."
  value       = aws_iam_role.app.arn
}
