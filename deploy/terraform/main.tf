# finrag's managed backends on AWS: filings bucket (S3), registry (RDS Postgres), Redis (ElastiCache),
# and the IAM role the pods assume. The Kubernetes cluster itself and Qdrant (StatefulSet in deploy/k8s)
# are outside this skeleton.

locals {
  name = "finrag-${var.environment}"
}

# --- S3: source filings ---------------------------------------------------------------------------------
resource "aws_s3_bucket" "filings" {
  bucket = var.filings_bucket_name
}

resource "aws_s3_bucket_versioning" "filings" {
  bucket = aws_s3_bucket.filings.id
  versioning_configuration {
    status = "Enabled" # an overwritten or deleted filing can be recovered
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "filings" {
  bucket = aws_s3_bucket.filings.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "filings" {
  bucket                  = aws_s3_bucket.filings.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# --- Postgres: document registry ----------------------------------------------------------------------
resource "random_password" "db" {
  length  = 32
  special = false # goes into a URL
}

resource "aws_db_subnet_group" "registry" {
  name       = "${local.name}-registry"
  subnet_ids = var.private_subnet_ids
}

resource "aws_security_group" "registry" {
  name   = "${local.name}-registry"
  vpc_id = var.vpc_id

  ingress {
    description     = "Postgres from the app"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [var.app_security_group_id]
  }
}

resource "aws_db_instance" "registry" {
  identifier                   = "${local.name}-registry"
  engine                       = "postgres"
  engine_version               = "16"
  instance_class               = var.db_instance_class
  allocated_storage            = var.db_allocated_storage_gb
  max_allocated_storage        = var.db_allocated_storage_gb * 5
  storage_encrypted            = true
  db_name                      = "finrag"
  username                     = "finrag"
  password                     = random_password.db.result
  db_subnet_group_name         = aws_db_subnet_group.registry.name
  vpc_security_group_ids       = [aws_security_group.registry.id]
  multi_az                     = var.environment == "production"
  backup_retention_period      = 14
  deletion_protection          = var.environment == "production"
  skip_final_snapshot          = var.environment != "production"
  final_snapshot_identifier    = "${local.name}-registry-final"
  performance_insights_enabled = true
}

# --- Redis: queue, response cache, rate limits, leases ---------------------------------------------------
resource "random_password" "redis" {
  length  = 32
  special = false
}

resource "aws_elasticache_subnet_group" "redis" {
  name       = "${local.name}-redis"
  subnet_ids = var.private_subnet_ids
}

resource "aws_security_group" "redis" {
  name   = "${local.name}-redis"
  vpc_id = var.vpc_id

  ingress {
    description     = "Redis from the app"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [var.app_security_group_id]
  }
}

resource "aws_elasticache_parameter_group" "redis" {
  name   = "${local.name}-redis7"
  family = "redis7"

  # Queued jobs must never be evicted to make room for cache entries (those have TTLs anyway).
  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = "${local.name}-redis"
  description                = "finrag queue, cache and rate limits"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2 # primary + replica with automatic failover
  automatic_failover_enabled = true
  multi_az_enabled           = true
  subnet_group_name          = aws_elasticache_subnet_group.redis.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result
  parameter_group_name       = aws_elasticache_parameter_group.redis.name
}

# --- IAM role for the pods (IRSA): read the filings bucket ---------------------------------------------------
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_provider_url}:sub"
      values   = ["system:serviceaccount:finrag:finrag"]
    }
  }
}

resource "aws_iam_role" "app" {
  name               = "${local.name}-app"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "filings_read" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.filings.arn]
  }
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.filings.arn}/*"]
  }
}

resource "aws_iam_role_policy" "filings_read" {
  name   = "filings-read"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.filings_read.json
}
