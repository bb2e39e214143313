"""The local stack: the whole of shopdesk on one machine, read from template.yaml.

``python -m local`` starts moto in server mode (DynamoDB, SQS, EventBridge, Secrets Manager,
Cognito...), creates every resource of the template in it, runs each function in its own worker
processes with only its own environment, serves the HTTP API routes (payload format 2.0, JWT
authorizer), polls the SQS event sources, delivers S3 event notifications, fires the schedules,
receives email as SES's receipt rule would (``POST /_local/email``), and stands in for the
providers (Twilio, Meta's Graph API, Telegram's Bot API) with sandboxes that record what would
have been sent, alongside the mail moto's SES accepted. Local-only routes live under ``/_local/``.
"""
