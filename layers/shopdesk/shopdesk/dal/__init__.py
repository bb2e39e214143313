"""DynamoDB, SQS, EventBridge and Secrets Manager access: the only place that builds expressions."""
