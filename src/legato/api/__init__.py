"""The HTTP face: FastAPI routers translating requests to use-cases, in the Exotel v2 envelope."""
