"""The Ed-Fi layer: Missouri v3.6 resources built from canonical data, validated and sent."""
