def portal(request):
    """Values every portal page needs (site name, the user's structures for the header)."""
    return {"site_name": "Chœur"}
