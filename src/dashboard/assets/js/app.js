// The dashboard's entry module.
