"""campaignwatch: supervise marketing campaigns kept in spreadsheets."""
__version__ = "0.1.0"
