variable "region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name (staging, production); prefixes resource names."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the Kubernetes cluster (EKS) that runs the API, workers and Qdrant."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the database and Redis (at least two availability zones)."
  type        = list(string)
}

variable "app_security_group_id" {
  description = "Security group of the cluster's nodes / pods allowed to reach Postgres and Redis."
  type        = string
}

variable "eks_oidc_provider_arn" {
  description = "OIDC provider of the EKS cluster, for the pods' IAM role (IRSA)."
  type        = string
}

variable "eks_oidc_provider_url" {
  description = "OIDC issuer URL of the EKS cluster without https:// (e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC)."
  type        = string
}

variable "db_instance_class" {
  description = "RDS instance class for the registry database."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage in GB (autoscaling up to 5x)."
  type        = number
  default     = 50
}

variable "redis_node_type" {
  description = "ElastiCache node type (queue, cache, rate limits, leases)."
  type        = string
  default     = "cache.t4g.small"
}

variable "filings_bucket_name" {
  description = "S3 bucket the document updater watches (s3://<bucket>/inbox)."
  type        = string
}
