"""Reading workbooks: package inspection (package.py) and calamine grids (workbook.py)."""
