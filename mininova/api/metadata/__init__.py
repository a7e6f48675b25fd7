"""What a guest learns about itself (mirrors ``nova/api/metadata/``)."""
