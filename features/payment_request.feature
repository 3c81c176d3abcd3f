Feature: Ecwid's payment request
  As a shop owner
  I want every payment request from Ecwid to be checked before anything is created
  So that a repeated submit never charges twice and a forged or broken request never reaches the bank

  @RC-14 @simulator @desktop
  Scenario: Going back and submitting the payment form again returns the same bank page
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Lavash" and goes to pay
    And goes back to the store's payment page and submits it again
    Then the customer is on the same bank page both times
    And the bank has 1 new order

  @RC-14 @simulator
  Scenario: The same payment request arriving many times at once registers one bank order
    Given an Ecwid order of 15000 AMD
    When Ecwid's payment request for the order arrives 6 times at once
    Then every answer redirects to the same bank page
    And the bank has 1 new order
    And the bank order number is compact and different from the Ecwid order id

  @RC-24 @simulator
  Scenario Outline: An invalid payment request gets one generic error page and creates nothing
    Given an Ecwid order of 15000 AMD
    When a payment request <defect> is posted to the gateway
    Then the answer is the generic error page with status 400
    And the error page shows nothing from the request and no secret
    And the bank received no registration

    Examples:
      | defect                              |
      | encrypted with another app's key    |
      | with a tampered ciphertext          |
      | cut short in transit                |
      | without a referenceTransactionId    |
      | in an unsupported currency          |
      | with a zero total                   |
      | with no encrypted fields            |
