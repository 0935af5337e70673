"""xlcredit's Excel formulas as classic xlwings UDFs: the workbook's xlwings.conf names ``udfs.functions``
under "UDF Modules". The module imports on any platform (on Linux xlwings' decorators are no-ops), so every
formula can also be called from Python: ``from udfs.functions import credit_limit``."""
