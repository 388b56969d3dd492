"""RabbitMQ transport: topology, publishing with confirms, and the retry/dead-letter paths."""
