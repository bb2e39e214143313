"""The local stack: the whole of shopdesk on one machine, read from template.yaml.

``python -m local`` starts moto in server mode (DynamoDB, SQS, EventBridge, Secrets Manager,
Cognito...), creates every resource of the template in it, runs each function in its own worker
processes with only its own environment, serves the HTTP API routes (payload format 2.0, JWT
authorizer), polls the SQS event sources, fires the schedules, and stands in for the providers
with a sandbox that records what would have been sent. Local-only routes live under ``/_local/``.
"""
