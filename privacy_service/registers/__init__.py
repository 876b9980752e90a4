"""The registers a DPO keeps beside the record: breaches (Art. 33/34), DPIAs, the other records, and the
officers' start page. It reads ropa, datamap and the other packages through their services; ropa never
imports it."""
